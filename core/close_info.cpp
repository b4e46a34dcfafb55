#include "close_info.hpp"

#include <openssl/err.h>
#include <openssl/quic.h>
#include <openssl/x509.h>

#include <cstdio>
#include <string_view>

namespace quicc {

namespace {

constexpr uint64_t tls_alert_no_application_protocol = 120;

// OpenSSL 3.5 closes with INTERNAL_ERROR and this reason when the network BIO fails for good
// (ossl_quic_port_raise_net_error). There is no other way to tell it from a real internal
// error; the handshake_failed_icmp case of tests/e2e/exit_codes.sh fails if OpenSSL rewords it.
constexpr std::string_view network_error_reason = "network BIO I/O error";

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

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

}  // namespace

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

std::string describe_code(const CloseInfo& info) {
  return (info.transport ? "transport error " : "application error ") + hex(info.code) +
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

Outcome handshake_outcome(const std::optional<CloseInfo>& info, long verify_result,
                          const std::string& rejected_pin, const std::string& fallback) {
  if (!rejected_pin.empty())
    return {Status::verify_failed,
            "certificate sha256 fingerprint " + rejected_pin + " does not match --pin-sha256"};
  if (verify_result != X509_V_OK)
    return {Status::verify_failed, std::string("certificate verification failed: ") +
                                       X509_verify_cert_error_string(verify_result)};
  if (!info) return {Status::handshake_failed, "handshake failed: " + fallback};
  if (is_tls_alert(*info)) return alert_outcome(*info);
  if (idle_timed_out(*info))
    return {Status::handshake_timeout, "handshake timed out: no answer from the peer"};
  if (network_failed(*info))
    return {Status::handshake_failed,
            "handshake failed: the network refused our packets (ICMP port unreachable?): is a "
            "QUIC server listening on that UDP port?"};
  return {Status::handshake_failed,
          std::string("handshake failed, ") + (info->local ? "closed locally" : "closed by the peer") +
              ": " + describe_code(*info)};
}

}  // namespace quicc
