// The parts of a connection's life that the client and the listener share under the
// non-blocking driver: reporting the handshake, piping one stream, and closing.
#pragma once

#include <openssl/ssl.h>

#include <vector>

#include "config.hpp"
#include "event_loop.hpp"
#include "events.hpp"
#include "ssl_ptr.hpp"
#include "status.hpp"

namespace quicc {

// Emits HandshakeDoneEvent; fails with no_alpn when the peer agreed to no protocol.
// `started`: when the handshake began, for its duration.
Outcome report_handshake(SSL* conn, Emitter& emitter, Clock::time_point started);

// Requests a TLS key update (a QUIC key phase change) and emits KeyUpdateEvent.
bool request_key_update(SSL* conn, Emitter& emitter, uint64_t after_bytes);

// Sets the stream's write mode from config (all-or-nothing unless --partial-write).
void apply_write_mode(SSL* stream, const Config& config);

// Takes one pending interrupt from config.interrupt_fd, if any.
bool take_interrupt(int interrupt_fd);

// The whole run's deadline (--timeout), if any.
std::optional<Clock::time_point> run_deadline(const Config& config, Clock::time_point started);

// The outcome of a deadline passing: Status::timeout (--timeout) or idle_timeout (--idle-exit).
Outcome deadline_outcome(Status status, const Config& config);

// Byte counts of a transfer, for the close report.
struct Transferred {
  uint64_t in = 0;
  uint64_t out = 0;
};

// Pipes config's input/output over `stream` until the EOF policy says the transfer is over,
// --timeout or --idle-exit passes, an interrupt arrives, or the stream or connection fails.
// `loop` waits on the object that owns the socket (the connection, or a listener).
Outcome pipe_stream(SSL* conn, SSL* stream, const Config& config, EventLoop& loop,
                    Emitter& emitter, Clock::time_point started, Transferred& moved);

// Closes the connection as `outcome` requires: after a transfer that ended well, with the
// configured ShutdownPolicy; after an interrupt, a timeout or a closed output, with quicc's own
// application error code (config.hpp) and without waiting for stream data. A second interrupt
// turns any close rapid. Emits the CloseEvent. Returns the run's final outcome.
// When our output was closed, the stream is reset and freed here (freeing sends STOP_SENDING)
// and its frames get a moment to leave before the CONNECTION_CLOSE.
// --timeout still counts while closing: past it, the close turns rapid and the run fails with
// Status::timeout.
Outcome finish_connection(SSL* conn, SslPtr& stream, const Config& config, EventLoop& loop,
                          Emitter& emitter, Outcome outcome, const Transferred& moved,
                          std::optional<Clock::time_point> deadline);

// Listener: the next connection (stream mode NONE). Waiting watches for interrupts and
// `deadline` (a blocking SSL_accept_connection would ignore both); null with `outcome` set.
SslPtr wait_for_connection(SSL* listener, const Config& config, EventLoop& loop,
                           std::optional<Clock::time_point> deadline, Outcome& outcome);

// Listener: the client's first stream, with our write mode. Null with `outcome` set when the
// connection closes, an interrupt arrives or `deadline` passes first (the connection is then
// closed too).
SslPtr wait_for_stream(SSL* conn, const Config& config, EventLoop& loop, Emitter& emitter,
                       std::optional<Clock::time_point> deadline, Outcome& outcome);

// The peer closed the connection while we were not done (emits the CloseEvent). A clean close
// (code 0) with none of our input left unsent is how a peer ends a session, as for ncat:
// success. Anything else is reported with its code; a clean close that cut off our input is a
// truncation.
Outcome peer_closed_outcome(SSL* conn, Emitter& emitter, bool nothing_unsent,
                            const Transferred& moved);

// An echo listener's interrupt: closes every connection with close_code_interrupted and waits
// for their closing periods (at most 1 s; a second interrupt makes the closes rapid), so that
// clients get the CONNECTION_CLOSE instead of ICMP errors from a socket that is gone.
void close_all(const std::vector<SSL*>& connections, const Config& config, EventLoop& loop);

// After a failure before any transfer: close at once without waiting.
void abort_connection(SSL* conn);

}  // namespace quicc
