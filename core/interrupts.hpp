// Interrupts (SIGINT, SIGTERM, SIGHUP) as a count that nobody consumes. The application's signal
// handler increments the count, remembers the signal and writes a wake-up byte to a pipe. Every
// waiter keeps the count it last acted on and compares: two threads can never take each other's
// interrupt, as they could when each signal was one byte that the first reader took. Only the
// driver's wait (EventLoop::wait, or the blocking driver's control loop) drains the pipe, after
// poll() said it is readable and before the count is read, so no wake-up is lost.
#pragma once

#include <atomic>
#include <utility>

namespace quicc {

class CommandQueue;

struct InterruptSource {
  const std::atomic<unsigned>* count = nullptr;  // interrupts so far; null: none ever come
  const std::atomic<int>* last_signal = nullptr;  // the newest one's signal number
  int wake_fd = -1;                               // readable once per interrupt (never blocks)
  // Requests for a status line (SIGUSR1, as dd): counted and woken the same way, but they
  // interrupt nothing.
  const std::atomic<unsigned>* status = nullptr;
  // The wake-up pipe's write end (-1: none), and a terminal session's escape commands
  // (commands.hpp), which wake the waiter through it; null outside a terminal session.
  int wake_write_fd = -1;
  CommandQueue* commands = nullptr;

  unsigned now() const { return count ? count->load() : 0; }
  int signal() const { return last_signal ? last_signal->load() : 0; }
  unsigned status_now() const { return status ? status->load() : 0; }
};

// What one waiter has seen of an InterruptSource.
class InterruptWatch {
 public:
  explicit InterruptWatch(const InterruptSource& source)
      : source_(source), seen_(source.now()), status_seen_(source.status_now()) {}

  // Interrupts that arrived since the last call (0: none); they count as seen from now on.
  unsigned take_new() {
    unsigned now = source_.now();
    unsigned fresh = now - seen_;
    seen_ = now;
    return fresh;
  }
  // Interrupts seen since this watch began.
  unsigned seen_total(unsigned since) const { return seen_ - since; }
  unsigned seen() const { return seen_; }
  int signal() const { return source_.signal(); }
  int wake_fd() const { return source_.wake_fd; }
  CommandQueue* commands() const { return source_.commands; }
  // A status line was asked for since the last call.
  bool take_status() {
    unsigned now = source_.status_now();
    return std::exchange(status_seen_, now) != now;
  }

 private:
  const InterruptSource& source_;
  unsigned seen_;
  unsigned status_seen_;
};

// Empties the wake-up pipe (it is non-blocking); called by the one wait that polls it.
void drain_wake_fd(int fd);

}  // namespace quicc
