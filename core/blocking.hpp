// The blocking driver: OpenSSL's own blocking mode (block_until_pred inside the library) in a
// thread-assisted domain, so that timers run while our threads sit in read() or write().
// Full duplex takes two threads per stream: one blocks reading the input and writing the
// stream, the other blocks reading the stream and writing the output.
#pragma once

#include <openssl/ssl.h>

#include "config.hpp"
#include "events.hpp"
#include "status.hpp"
#include "tls.hpp"

namespace quicc {

// SSL_connect / SSL_do_handshake in blocking mode, cut short at config.connect_timeout by a
// watchdog that closes the connection.
Outcome blocking_handshake(SSL* conn, const Config& config, const TlsContext* tls);

// Pipes config's input/output over `stream` until FIN both ways and the output is flushed.
Outcome blocking_pipe(SSL* conn, SSL* stream, const Config& config, Emitter& emitter,
                      uint64_t& bytes_in, uint64_t& bytes_out);

// Graceful close, blocking until done. Emits the CloseEvent.
Outcome blocking_close(SSL* conn, Emitter& emitter, uint64_t bytes_in, uint64_t bytes_out);

// `--listen --echo` with blocking calls: a thread per connection and per stream.
Outcome blocking_serve_echo(SSL* listener, const Config& config, Emitter& emitter);

}  // namespace quicc
