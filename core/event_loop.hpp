// The non-blocking driver's wait: one function that sleeps until OpenSSL's QUIC event loop, a
// pipe end or a deadline needs attention, and says why it woke (ninja's WorkResult,
// ngtcp2's update_timer).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <optional>

#include "events.hpp"

namespace quicc {

using Clock = std::chrono::steady_clock;

// What the pipe ends need from poll() this turn; -1 means "not interested".
struct PipeInterest {
  int read_fd = -1;
  int write_fd = -1;
  int interrupt_fd = -1;  // readable after SIGINT/SIGTERM: wakes with wake_signal
};

class EventLoop {
 public:
  EventLoop(SSL* ssl, Emitter& emitter) : ssl_(ssl), emitter_(emitter) {}

  // Ends the current turn: emits its tick (why it woke, bytes moved, next timeout), waits, and
  // lets OpenSSL handle what woke it (SSL_handle_events).
  // Returns the WakeReason bits of the next turn; wake_timeout when `deadline` passed.
  unsigned wait(const PipeInterest& pipes, std::optional<Clock::time_point> deadline,
                uint64_t bytes_in, uint64_t bytes_out);

  // The object whose event timeout and poll descriptors drive the wait (a listener's
  // connections share its socket).
  void set_ssl(SSL* ssl) { ssl_ = ssl; }

 private:
  SSL* ssl_;
  Emitter& emitter_;
  unsigned last_wake_ = wake_none;
  int stuck_turns_ = 0;  // turns in a row where OpenSSL's deadline stayed due (see wait())
};

}  // namespace quicc
