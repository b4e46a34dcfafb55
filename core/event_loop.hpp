// The non-blocking driver's wait: one function that sleeps until OpenSSL's QUIC event loop, a
// local pipe end, an interrupt or a deadline needs attention, and says why it woke (ninja's
// WorkResult, ngtcp2's update_timer).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>

#include <poll.h>

#include "events.hpp"

namespace quicc {

using Clock = std::chrono::steady_clock;

// What the local ends need from poll() this turn; -1 means "not interested".
struct PipeInterest {
  int read_fd = -1;
  int write_fd = -1;
};

class EventLoop {
 public:
  // `ssl`: the object that owns the UDP socket (a connection, or a listener whose connections
  // share its socket). `interrupt_fd`: the interrupt wake-up pipe, drained here and only here.
  EventLoop(SSL* ssl, Emitter& emitter, int interrupt_fd)
      : ssl_(ssl), emitter_(emitter), interrupt_fd_(interrupt_fd) {}

  // Ends the current turn: emits its tick (why it woke, bytes moved, next timeout), waits, and
  // lets OpenSSL handle what woke it (SSL_handle_events).
  // Returns the WakeReason bits of the next turn; wake_timeout when `deadline` passed.
  unsigned wait(const PipeInterest& pipes, std::optional<Clock::time_point> deadline,
                uint64_t bytes_in = 0, uint64_t bytes_out = 0);
  // The same for any number of local ends (the pipe listener with --keep-open): each is
  // polled for its `events` and gets its `revents`; they add no bits to the result.
  unsigned wait_ends(std::span<pollfd> ends, std::optional<Clock::time_point> deadline,
                     uint64_t bytes_in = 0, uint64_t bytes_out = 0);

 private:
  SSL* ssl_;
  Emitter& emitter_;
  int interrupt_fd_;
  unsigned last_wake_ = wake_none;
  int stuck_turns_ = 0;  // turns in a row where OpenSSL's deadline stayed due (see wait())
  std::vector<pollfd> fds_;  // this turn's poll() set, kept to reuse its memory
};

// The wait of phases without OpenSSL's event loop (resolving; the blocking driver's control
// thread): sleeps until one of `fds` is readable, an interrupt arrives (the interrupt pipe is
// drained here), or `deadline`. Bit i of the result: fds[i] is readable; readable_signal:
// an interrupt's wake-up came.
unsigned wait_readable(std::initializer_list<int> fds, int interrupt_fd,
                       std::optional<Clock::time_point> deadline);
inline constexpr unsigned readable_signal = 1u << 31;

// Milliseconds for poll() until `deadline` (rounded up, clamped to what poll() takes); -1 for
// none.
int poll_timeout_ms(std::optional<Clock::time_point> deadline);

}  // namespace quicc
