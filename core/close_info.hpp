// How a connection ended, as plain data, and what that means for the run. Reading the state
// out of OpenSSL is one call (read_close_info); turning it into an Outcome is a pure function,
// so that every way a connection can end is decided, and tested, in one place.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <optional>
#include <string>

#include "status.hpp"

namespace quicc {

struct CloseInfo {
  bool local = false;      // we closed (or OpenSSL did for us: idle timeout, network error)
  bool transport = false;  // transport error code (true) or application code
  uint64_t code = 0;
  uint64_t frame_type = 0;
  std::string reason;
};

// The connection's close, once it is closing or closed; nothing while it is open.
std::optional<CloseInfo> read_close_info(SSL* conn);

// The peer closed with code 0 (application code 0 or transport NO_ERROR).
bool closed_cleanly_by_peer(const CloseInfo& info);
// OpenSSL's own idle timer ended the connection.
bool idle_timed_out(const CloseInfo& info);
// OpenSSL gave up on the UDP socket (typically an ICMP port unreachable on our connected
// socket); recognised by OpenSSL's reason text, see close_info.cpp.
bool network_failed(const CloseInfo& info);

// "application error 0x5 (reason)"; the reason is peer text, shown as is: sinks escape it.
std::string describe_code(const CloseInfo& info);

// A connection that ended after its handshake: peer errors, idle timeout, network failure, TLS
// alerts; a clean close by the peer is Status::ok here (whether data was lost is the
// TransferPolicy's business).
Outcome close_outcome(const CloseInfo& info);

// A handshake that failed: certificate verification (verify_result is SSL_get_verify_result),
// a rejected --pin-sha256, TLS alerts, idle timeout, network failure; `fallback` describes a
// failure that left no close information.
Outcome handshake_outcome(const std::optional<CloseInfo>& info, long verify_result,
                          const std::string& rejected_pin, const std::string& fallback);

}  // namespace quicc
