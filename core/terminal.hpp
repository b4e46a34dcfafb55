// A terminal session's reader (--interactive, the default when stdin is a terminal): a thread
// that reads what the person types, line by line as the terminal gives it (its settings are
// never changed, so nothing needs restoring), sends the data on through a pipe that the
// driver reads as its input, and hands escape commands (commands.hpp) to the driver through a
// CommandQueue. Commands that end our side (~. ~f ~r) close the pipe after the command is
// queued, so the driver learns the command before it reads the pipe's EOF. ~n, ~u and ~s
// choose the stream the next lines go to: the reader waits for the driver's answer, then
// sends lines for a stream other than the pipe's as commands (the pipe carries the pipe's).
#pragma once

#include <thread>

#include "commands.hpp"
#include "events.hpp"

namespace quicc {

class TerminalFront {
 public:
  // `terminal_fd`: what the person types (stdin); `wake_write_fd`: the interrupt wake-up
  // pipe's write end, so that a command wakes the driver.
  // `crlf`: --crlf is done here, so that the bytes counted before a command are the bytes the
  // driver reads.
  TerminalFront(int terminal_fd, int wake_write_fd, Emitter& emitter, bool crlf);
  ~TerminalFront();
  TerminalFront(const TerminalFront&) = delete;
  TerminalFront& operator=(const TerminalFront&) = delete;

  // Starts the reader; false (with errno) if a pipe could not be made.
  bool start();
  // The pipe's read end: the driver's input.
  int input_fd() const { return data_read_; }
  CommandQueue& commands() { return queue_; }
  // Stops the reader and joins it (a read of the terminal is not waited for).
  void stop();

 private:
  void loop();
  // Writes to the pipe, waiting while it is full; false once stop() was asked or it broke.
  bool send(std::string_view data);
  // --crlf: each LF not right after a CR goes as CR LF (as LocalInput::send_crlf).
  std::string widen(std::string_view typed);
  void end_input();
  void note(std::string text) { emitter_.emit(NoteEvent{std::move(text)}); }

  int terminal_fd_;
  Emitter& emitter_;
  CommandQueue queue_;
  int data_read_ = -1;
  int data_write_ = -1;
  int stop_read_ = -1;
  int stop_write_ = -1;
  bool input_over_ = false;  // our side is ended: typed data is no longer sent
  bool other_stream_ = false;  // after ~n, ~u or ~s N: data goes to the driver as send_data
  bool crlf_;
  bool last_cr_ = false;
  uint64_t written_ = 0;  // bytes written to the pipe so far
  std::thread thread_;
};

}  // namespace quicc
