#include "close_info.hpp"

#include <openssl/err.h>
#include <openssl/quic.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace quicc {

namespace {

constexpr uint64_t tls_alert_no_application_protocol = 120;

// OpenSSL 3.5 closes with INTERNAL_ERROR and this reason when the network BIO fails for good
// (ossl_quic_port_raise_net_error). There is no other way to tell it from a real internal
// error; the handshake_failed_icmp case of tests/e2e/exit_codes.sh fails if OpenSSL rewords it.
constexpr std::string_view network_error_reason = "network BIO I/O error";

// QUIC carries TLS alerts as transport errors 0x100 + alert (RFC 9001, 4.8).
bool is_tls_alert(const CloseInfo& info) {
  return info.transport && info.code >= OSSL_QUIC_ERR_CRYPTO_ERR_BEGIN &&
         info.code <= OSSL_QUIC_ERR_CRYPTO_ERR_END;
}

std::string alert_text(const CloseInfo& info) {
  int alert = static_cast<int>(info.code - OSSL_QUIC_ERR_CRYPTO_ERR_BEGIN);
  // OpenSSL's table predates these TLS 1.3 alerts (RFC 8446, 6).
  std::string name = SSL_alert_desc_string_long(alert);
  if (alert == 109) name = "missing extension";
  if (alert == 116) name = "certificate required";
  if (alert == 120) name = "no application protocol";
  return "TLS alert \"" + name + "\" (" + std::to_string(alert) + ")";
}

Outcome alert_outcome(const CloseInfo& info) {
  std::string who = info.local ? "we sent " : "the peer sent ";
  if (info.code == OSSL_QUIC_ERR_CRYPTO_ERR(tls_alert_no_application_protocol))
    return {Status::no_alpn, "no ALPN agreed: " + who + alert_text(info)};
  return {Status::handshake_failed, "handshake failed: " + who + alert_text(info)};
}

// SSL_get_conn_close_info() reads the close's cause without OpenSSL's lock, while another
// thread (the blocking driver's, or OpenSSL's assist thread) may be writing it. The cause is
// written once, under the lock, when the connection starts terminating: asking first, under
// the lock, whether it has (SSL_poll's "exception on connection"), orders the read after that
// write. Should SSL_poll fail, the cause is read directly, as before.
bool terminating(SSL* conn) {
  SSL_POLL_ITEM item{};
  item.desc = SSL_as_poll_descriptor(conn);
  item.events = SSL_POLL_EVENT_EC;
  const timeval now{0, 0};
  size_t count = 0;
  if (SSL_poll(&item, 1, sizeof item, &now, SSL_POLL_FLAG_NO_HANDLE_EVENTS, &count) != 1) {
    ERR_clear_error();
    return true;
  }
  return (item.revents & SSL_POLL_EVENT_EC) != 0;
}

// "subject "CN=localhost", issuer "CN=Test CA", names DNS:localhost IP:127.0.0.1, valid
// 2026-01-01T00:00:00Z to 2026-02-01T00:00:00Z, sha256 AB:CD:..."
std::string certificate_text(const PeerCertificate& c) {
  std::string names;
  for (const auto& n : c.names) names += (names.empty() ? "" : " ") + n;
  return "subject \"" + c.subject + "\", issuer \"" + c.issuer + "\", names " +
         (names.empty() ? "none" : names) + ", valid " + iso8601_utc(c.not_before) + " to " +
         iso8601_utc(c.not_after) + ", sha256 " + c.sha256;
}

// A certificate that failed verification: what is wrong with it, the certificate itself, and
// (for a client) the options that would accept it.
Outcome verify_outcome(const HandshakeFailure& f) {
  long r = f.verify_result;
  const PeerCertificate* c = f.certificate ? &*f.certificate : nullptr;
  std::string text = std::string("certificate verification failed: ") +
                     X509_verify_cert_error_string(r);
  if (f.failed_depth > 0) {
    // An intermediate or root is at fault: the dates below are the server's own.
    text += " (the chain's certificate at depth " + std::to_string(f.failed_depth) +
            (f.failed_subject.empty() ? "" : ", \"" + f.failed_subject + "\"") +
            ", not the server's own)";
  } else {
    bool name = r == X509_V_ERR_HOSTNAME_MISMATCH || r == X509_V_ERR_IP_ADDRESS_MISMATCH;
    if (name && !f.verified_host.empty()) text += ": it is not for " + f.verified_host;
    if (c && r == X509_V_ERR_CERT_HAS_EXPIRED) text += ": it " + expiry_text(*c);
    if (c && r == X509_V_ERR_CERT_NOT_YET_VALID)
      text += ": it is valid from " + iso8601_utc(c->not_before);
  }
  if (c) text += "; the certificate: " + certificate_text(*c);
  if (!f.client) return {Status::verify_failed, text};

  std::string pin = "--pin-sha256 " + (c ? c->sha256 : std::string("FINGERPRINT")) +
                    " (this certificate only)";
  if (r == X509_V_ERR_HOSTNAME_MISMATCH || r == X509_V_ERR_IP_ADDRESS_MISMATCH)
    text += "; to reach it, give one of its names as HOST (--connect-to ADDR keeps the address "
            "you dial), or " + pin + ", or --insecure (no verification)";
  else if (r == X509_V_ERR_CERT_HAS_EXPIRED || r == X509_V_ERR_CERT_NOT_YET_VALID)
    text += "; to accept it anyway, give " + pin + " or --insecure (no verification)";
  else if (r == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)
    text += "; to trust it, give --cafile FILE (the certificate itself: it is self-signed), " +
            pin + ", or --insecure (no verification)";
  else
    text += "; to trust it, give --cafile FILE (the CA that issued it), " + pin +
            ", or --insecure (no verification)";
  return {Status::verify_failed, text};
}

}  // namespace

std::string hex_code(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::optional<CloseInfo> read_close_info(SSL* conn) {
  if (!terminating(conn)) return std::nullopt;
  SSL_CONN_CLOSE_INFO raw{};
  if (SSL_get_conn_close_info(conn, &raw, sizeof raw) != 1) return std::nullopt;
  CloseInfo info;
  info.local = raw.flags & SSL_CONN_CLOSE_FLAG_LOCAL;
  info.transport = raw.flags & SSL_CONN_CLOSE_FLAG_TRANSPORT;
  info.code = raw.error_code;
  info.frame_type = raw.frame_type;
  if (raw.reason && raw.reason_len > 0) info.reason.assign(raw.reason, raw.reason_len);
  return info;
}

bool closed_cleanly_by_peer(const CloseInfo& info) { return !info.local && info.code == 0; }

bool idle_timed_out(const CloseInfo& info) {
  return info.local && info.transport && info.code == OSSL_QUIC_LOCAL_ERR_IDLE_TIMEOUT;
}

bool network_failed(const CloseInfo& info) {
  return info.local && info.transport && info.code == OSSL_QUIC_ERR_INTERNAL_ERROR &&
         info.reason == network_error_reason;
}

std::string_view transport_code_name(uint64_t code) {
  static constexpr std::string_view names[] = {
      "NO_ERROR",           "INTERNAL_ERROR",         "CONNECTION_REFUSED",
      "FLOW_CONTROL_ERROR", "STREAM_LIMIT_ERROR",     "STREAM_STATE_ERROR",
      "FINAL_SIZE_ERROR",   "FRAME_ENCODING_ERROR",   "TRANSPORT_PARAMETER_ERROR",
      "CONNECTION_ID_LIMIT_ERROR", "PROTOCOL_VIOLATION", "INVALID_TOKEN",
      "APPLICATION_ERROR",  "CRYPTO_BUFFER_EXCEEDED", "KEY_UPDATE_ERROR",
      "AEAD_LIMIT_REACHED", "NO_VIABLE_PATH"};
  return code < std::size(names) ? names[code] : std::string_view();
}

std::string_view application_code_name(std::string_view alpn, uint64_t code) {
  if (alpn != "h3") return {};
  static constexpr std::string_view h3[] = {
      "H3_NO_ERROR",          "H3_GENERAL_PROTOCOL_ERROR", "H3_INTERNAL_ERROR",
      "H3_STREAM_CREATION_ERROR", "H3_CLOSED_CRITICAL_STREAM", "H3_FRAME_UNEXPECTED",
      "H3_FRAME_ERROR",       "H3_EXCESSIVE_LOAD",         "H3_ID_ERROR",
      "H3_SETTINGS_ERROR",    "H3_MISSING_SETTINGS",       "H3_REQUEST_REJECTED",
      "H3_REQUEST_CANCELLED", "H3_REQUEST_INCOMPLETE",     "H3_MESSAGE_ERROR",
      "H3_CONNECT_ERROR",     "H3_VERSION_FALLBACK"};
  static constexpr std::string_view qpack[] = {
      "QPACK_DECOMPRESSION_FAILED", "QPACK_ENCODER_STREAM_ERROR", "QPACK_DECODER_STREAM_ERROR"};
  if (code >= 0x100 && code - 0x100 < std::size(h3)) return h3[code - 0x100];
  if (code >= 0x200 && code - 0x200 < std::size(qpack)) return qpack[code - 0x200];
  return {};
}

std::string describe_code(const CloseInfo& info) {
  std::string_view name = info.transport ? transport_code_name(info.code)
                                         : application_code_name(info.alpn, info.code);
  return (info.transport ? "transport error " : "application error ") + hex_code(info.code) +
         (name.empty() ? "" : " " + std::string(name)) +
         (info.reason.empty() ? "" : " (" + info.reason + ")");
}

Outcome close_outcome(const CloseInfo& info) {
  if (is_tls_alert(info)) return alert_outcome(info);
  if (idle_timed_out(info))
    return {Status::idle_timeout, "connection idle timeout: no packets from the peer"};
  if (network_failed(info))
    return {Status::io_error, "network error on the UDP socket (" + info.reason +
                                  "): the peer's port became unreachable?"};
  if (info.local) return {Status::internal, "connection closed locally: " + describe_code(info)};
  if (info.code == 0) return {};
  if (info.transport)
    return {Status::peer_transport_error, "peer closed the connection: " + describe_code(info)};
  return {Status::peer_app_error, "peer closed the connection: " + describe_code(info)};
}

std::string port_unreachable_text(const std::string& address) {
  return "nothing listens on UDP " + address +
         " (ICMP port unreachable): is the QUIC server running, and on that port?";
}

Outcome handshake_outcome(const HandshakeFailure& f) {
  if (!f.rejected_pin.empty()) {
    std::string text = "certificate sha256 fingerprint " + f.rejected_pin +
                       " does not match --pin-sha256";
    if (f.certificate) text += "; the certificate: " + certificate_text(*f.certificate);
    return {Status::verify_failed, text};
  }
  if (f.verify_result != X509_V_OK) return verify_outcome(f);
  const std::optional<CloseInfo>& info = f.close;
  if (!info) return {Status::handshake_failed, "handshake failed: " + f.fallback};
  if (is_tls_alert(*info)) return alert_outcome(*info);
  if (idle_timed_out(*info))
    return {Status::handshake_timeout, "handshake timed out: no answer from the peer"};
  if (network_failed(*info)) {
    // OpenSSL keeps the socket's errno under its own "network BIO I/O error": on our connected
    // socket, ECONNREFUSED is an ICMP port unreachable.
    if (f.system_error == ECONNREFUSED)
      return {Status::port_unreachable, port_unreachable_text("that port")};
    return {Status::handshake_failed,
            "handshake failed: the network refused our packets (" +
                (f.system_error ? std::string(std::strerror(f.system_error))
                                : std::string("ICMP error?")) +
                "): is a QUIC server listening on that UDP port?"};
  }
  // An application's close before the handshake ends goes as a transport APPLICATION_ERROR,
  // its code and reason dropped (RFC 9000 10.2.3): the server's application refused us.
  std::string hint;
  if (!info->local && info->transport && info->code == 0xc)
    hint = " (the server's application refused the connection)";
  return {Status::handshake_failed,
          std::string("handshake failed, ") + (info->local ? "closed locally" : "closed by the peer") +
              ": " + describe_code(*info) + hint};
}

}  // namespace quicc
