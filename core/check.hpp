// --check: a handshake and nothing else. No stream is opened; the server's session ticket is
// waited for (bounded), so that --session-out gets one and the report can say whether one came;
// then the connection is closed with --close-code (default 0). Both drivers run this the same
// way: it makes no blocking call, only SSL_handle_events and non-blocking closes.
#pragma once

#include <chrono>

#include "connection.hpp"
#include "session.hpp"
#include "tls.hpp"

namespace quicc {

// How long a check waits for the server's first session ticket. A TLS 1.3 server sends its
// tickets once it has our Finished, about one round trip after our handshake completed; twice
// the handshake's duration covers that with room, within 100 ms (a loaded machine) to 1 s (a
// server that sends none costs no more).
std::chrono::milliseconds ticket_wait(std::chrono::microseconds handshake_time);

// The check after a completed handshake, to the end of the connection (its CloseEvent
// reported). `handshake_time`: how long the handshake took (ticket_wait).
Outcome check_connection(Connection& conn, RunContext& run, const TlsContext& tls,
                         std::chrono::microseconds handshake_time);

}  // namespace quicc
