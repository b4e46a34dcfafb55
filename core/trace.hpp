// The TLS/QUIC message trace (-vvv): OpenSSL's message callback, decoded by SSL_trace into
// text, emitted as TraceEvents.
#pragma once

#include <openssl/ssl.h>

#include "events.hpp"

namespace quicc {

// Traces every connection made from `ctx` (the listener's accepted ones included). The emitter
// must outlive the context.
void enable_trace(SSL_CTX* ctx, Emitter& emitter);

}  // namespace quicc
