// The TLS/QUIC message trace (-vvv): OpenSSL's message callback, decoded by SSL_trace into
// text, emitted as TraceEvents.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "events.hpp"

namespace quicc {

// Traces every connection made from `ctx` (the listener's accepted ones included). The emitter
// must outlive the context.
void enable_trace(SSL_CTX* ctx, Emitter& emitter);

// OpenSSL's qlog has no API: it reads QLOGDIR from the environment when a connection or
// listener is created. Sets it (when `dir` is not empty) for the objects created next.
void enable_qlog(const std::string& dir);

}  // namespace quicc
