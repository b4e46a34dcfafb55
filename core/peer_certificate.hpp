// The peer's certificate as plain data (--check's report, a verification failure's message,
// --warn-days), read once from OpenSSL; the rules about its dates are pure functions.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "status.hpp"

namespace quicc {

struct PeerCertificate {
  std::string subject;             // RFC 2253 in UTF-8: `openssl x509 -nameopt RFC2253,-esc_msb`
  std::string issuer;
  std::vector<std::string> names;  // subjectAltName entries: "DNS:localhost", "IP:127.0.0.1"
  int64_t not_before = 0;          // seconds since the Unix epoch, UTC
  int64_t not_after = 0;
  int64_t checked_at = 0;          // when it was read (seconds since the epoch)
  int64_t days_left = 0;           // days_left(not_after, checked_at)
  std::string sha256;              // "AB:CD:...", as `openssl x509 -fingerprint -sha256`
};

// The certificate the peer of `conn` presented, also after its verification failed (the chain
// OpenSSL received is kept then, the verified certificate is not); nothing if it sent none.
// `now`: seconds since the epoch, for days_left.
std::optional<PeerCertificate> peer_certificate_of(SSL* conn, int64_t now);
// The same for one certificate.
std::optional<PeerCertificate> describe_certificate(X509* cert, int64_t now);

// Seconds since the epoch, now.
int64_t unix_now();

// Whole days from `now` until `not_after`, rounded down: 0 on its last day, -1 the day after
// it expired.
int64_t days_left(int64_t not_after, int64_t now);

// "2026-07-01T12:00:00Z".
std::string iso8601_utc(int64_t unix_seconds);

// "in 29 days, on 2026-07-01T12:00:00Z", "today, at ...", "3 days ago, on ..."
std::string expiry_text(const PeerCertificate& cert);

// --warn-days: ok, or Status::cert_expiring when the certificate's validity ends within
// `warn_days` days of `now` (an expired one too).
Outcome expiry_outcome(const PeerCertificate& cert, int64_t warn_days, int64_t now);

}  // namespace quicc
