// How a connection or stream ended, turned into an Outcome and a CloseEvent. OpenSSL reports a
// stream reset and a connection failure alike as SSL_ERROR_SSL (openssl#21762); the stream and
// connection state calls here tell them apart.
#pragma once

#include <openssl/ssl.h>

#include "events.hpp"
#include "status.hpp"
#include "tls.hpp"

namespace quicc {

// The connection has closed (or is closing): report who closed it, with which code and reason.
Outcome describe_close(SSL* conn, Emitter& emitter, uint64_t bytes_in, uint64_t bytes_out);

// The connection has closed or is closing (SSL_get_conn_close_info has an answer).
bool connection_closed(SSL* conn);

// The peer closed the connection with code 0 (application code 0 or transport NO_ERROR).
bool peer_closed_cleanly(SSL* conn);

// SSL_connect / SSL_accept failed: verification, ALPN, timeout or another handshake failure.
Outcome describe_handshake_failure(SSL* conn, const TlsContext* tls);

// An SSL_read_ex / SSL_write_ex on a stream failed with something other than WANT_*.
// Emits the stream's reset event when the peer reset it.
Outcome describe_stream_failure(SSL* stream, SSL* conn, bool reading, Emitter& emitter,
                                uint64_t bytes_in, uint64_t bytes_out);

}  // namespace quicc
