// Terminal sessions: the escape commands a person types (a line that begins with `~`, as in
// ssh), how a line becomes one, and the queue that carries them from the terminal's reader
// (terminal.hpp) to the connection's driver, which hands them to the TransferPolicy.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace quicc {

struct UserCommand {
  enum class Kind {
    quit,        // ~.  end our side as --on-eof close does: FIN, close once acknowledged
    fin,         // ~f  FIN on the stream; keep reading the peer's data
    reset,       // ~r CODE  reset our sending side with CODE, then close
    key_update,  // ~k  a TLS key update now
    close,       // ~c CODE [REASON]  close the connection with an application code
    info,        // ~i  connection and transfer figures
    list,        // ~l  the streams and their state
    new_bidi,    // ~n  open a bidirectional stream and send on it
    new_uni,     // ~u  open a unidirectional stream and send on it
    use_stream,  // ~s [N]  send on stream N, or without N on the pipe's stream
    send_data,   // (not typed) a line for the stream we send on, when that is not the pipe's
  };
  Kind kind = Kind::info;
  uint64_t code = 0;             // ~r, ~c: the error code; ~s: the stream's number
  bool has_stream = false;       // ~s: a number was given
  std::string reason;
  std::string data;              // send_data: the bytes (--crlf applied)
  // Bytes of data typed before the command: it is carried out once the driver has read that
  // many (~c, ~k, ~i and ~l come after the lines typed before them, not before).
  uint64_t after_bytes = 0;
};

// The letter that names a command (`~k` → 'k'), for the log.
char command_letter(UserCommand::Kind kind);
// What a command does, as `~?` and the log say it.
std::string command_text(const UserCommand& command);
// `~?`'s lines.
std::vector<std::string> command_help();

// What one line typed at the terminal is.
struct TypedLine {
  enum class Kind { data, command, help, error };
  Kind kind = Kind::data;
  std::string data;     // data: the bytes to send (`~~` becomes `~`)
  UserCommand command;  // command
  std::string error;    // error: what is wrong with the command, for stderr
};

// Reads a line typed at the start of a line, newline included if there was one. A command is
// `~` and its letter, alone or followed by a space and its arguments; `~~` stands for a `~` of
// data; any other line, `~/path` included, is data as typed (as ssh passes unknown escapes).
TypedLine parse_typed_line(std::string_view line);

// Splits what the terminal gave (in any chunks) into data and commands. Only a line that
// begins right after a newline (or at the very start) is looked at for a command, so data that
// arrives mid-line never is one. Data is passed on at once; a line that begins with `~` is held
// until its newline, then parsed (longer than 4096 bytes: data).
class TypedInput {
 public:
  void feed(std::string_view chunk, std::vector<TypedLine>& out);
  // Input ended: a held line, parsed as it is.
  void finish(std::vector<TypedLine>& out);

 private:
  std::string held_;          // a line beginning with `~`, waiting for its newline
  bool at_line_start_ = true;
};

// Which stream the typed data goes to after ~n, ~u or ~s: the pipe's (through the driver's
// input) or another of ours (as send_data commands). `ok` false: the command failed (the
// driver said why) and nothing changed.
struct StreamChoice {
  bool ok = false;
  bool pipe = true;
};

// Commands from the terminal's reader to the connection's driver. Thread-safe; push() wakes
// the driver's wait through the interrupt wake-up pipe (after queueing, so no wake-up is lost).
class CommandQueue {
 public:
  explicit CommandQueue(int wake_write_fd) : wake_write_fd_(wake_write_fd) {}
  void push(UserCommand command);
  // Pushes a command that chooses the stream (~n ~u ~s) and waits for the driver's answer;
  // nullopt once shut() (the session is over).
  std::optional<StreamChoice> push_and_wait(UserCommand command);
  // The driver's answer to the command push_and_wait() waits on.
  void answer(StreamChoice choice);
  void shut();
  std::vector<UserCommand> take();
  // Cheap check for the driver's turn.
  bool pending() const { return pushed_.load() != taken_.load(); }

 private:
  int wake_write_fd_;
  std::mutex mutex_;
  std::condition_variable answered_;
  std::optional<StreamChoice> answer_;
  bool shut_ = false;
  std::vector<UserCommand> queue_;
  std::atomic<unsigned> pushed_{0};
  std::atomic<unsigned> taken_{0};
};

}  // namespace quicc
