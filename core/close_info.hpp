// How a connection ended, as plain data, and what that means for the run. Reading the state
// out of OpenSSL is one call (read_close_info); turning it into an Outcome is a pure function,
// so that every way a connection can end is decided, and tested, in one place.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "peer_certificate.hpp"
#include "status.hpp"

namespace quicc {

struct CloseInfo {
  bool local = false;      // we closed (or OpenSSL did for us: idle timeout, network error)
  bool transport = false;  // transport error code (true) or application code
  uint64_t code = 0;
  uint64_t frame_type = 0;
  std::string reason;
  std::string alpn;  // the protocol agreed in the handshake, which gives application codes names
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

// The name RFC 9000 (20.1) gives a QUIC transport error code ("PROTOCOL_VIOLATION"); empty
// for codes it does not name. TLS alerts (0x100-0x1ff) are described by the alert instead.
std::string_view transport_code_name(uint64_t code);
// The name an application protocol gives its error code, when `alpn` says which protocol the
// connection speaks: HTTP/3 (h3: RFC 9114 8.1, and QPACK's, RFC 9204 6). Empty otherwise.
std::string_view application_code_name(std::string_view alpn, uint64_t code);

// "application error 0x100 H3_NO_ERROR (reason)"; the reason is peer text, shown as is: sinks
// escape it.
std::string describe_code(const CloseInfo& info);
// A QUIC error code as the log and notes write it: "0x10".
std::string hex_code(uint64_t v);

// A connection that ended after its handshake: peer errors, idle timeout, network failure, TLS
// alerts; a clean close by the peer is Status::ok here (whether data was lost is the
// TransferPolicy's business).
Outcome close_outcome(const CloseInfo& info);

// What is known about a handshake that failed.
struct HandshakeFailure {
  std::optional<CloseInfo> close;
  long verify_result = 0;        // SSL_get_verify_result (X509_V_OK: 0)
  std::string rejected_pin;      // the fingerprint that did not match --pin-sha256, if one did not
  std::optional<PeerCertificate> certificate;  // the peer's, if it sent one
  int failed_depth = 0;         // the chain's certificate that failed (0: the peer's own)
  std::string failed_subject;   // its subject, when it is not the peer's own
  bool client = false;           // we are the client: say what the user can do about a failure
  std::string verified_host;     // the name the certificate was checked against (client)
  int system_error = 0;          // errno behind OpenSSL's network failure (ECONNREFUSED: ICMP)
  std::string fallback;          // OpenSSL's reason, for a failure with no close information
};

// A handshake that failed: certificate verification (naming the certificate, and for a client
// what to do next: --cafile, --pin-sha256 with its fingerprint, --insecure), a rejected
// --pin-sha256, TLS alerts, idle timeout, a port nothing listens on, other network failures.
Outcome handshake_outcome(const HandshakeFailure& failure);

// The message of Status::port_unreachable, naming the address (quicc's client knows it).
std::string port_unreachable_text(const std::string& address);

}  // namespace quicc
