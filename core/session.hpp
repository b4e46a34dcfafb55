// The parts of a connection's life that the client and the listener share under the
// non-blocking driver: reporting the handshake, piping one stream, and closing.
#pragma once

#include <openssl/ssl.h>

#include "config.hpp"
#include "event_loop.hpp"
#include "events.hpp"
#include "status.hpp"

namespace quicc {

// Emits HandshakeDoneEvent; fails with no_alpn when the peer agreed to no protocol.
Outcome report_handshake(SSL* conn, Emitter& emitter);

// Pipes config's input/output over `stream` until FIN both ways and the output is flushed.
// `loop` waits on the object that owns the socket (the connection, or a listener).
Outcome pipe_stream(SSL* conn, SSL* stream, const Config& config, EventLoop& loop,
                    Emitter& emitter, uint64_t& bytes_in, uint64_t& bytes_out);

// Graceful close: waits until our stream data is acknowledged and the closing period ends.
// Emits the CloseEvent.
Outcome close_connection(SSL* conn, EventLoop& loop, Emitter& emitter, uint64_t bytes_in,
                         uint64_t bytes_out);

// After a failure: close at once without waiting (the outcome already says what went wrong).
void abort_connection(SSL* conn);

}  // namespace quicc
