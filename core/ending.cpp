#include "ending.hpp"

#include <openssl/err.h>
#include <openssl/quic.h>
#include <openssl/x509.h>

#include <cstdio>
#include <string_view>

namespace quicc {

namespace {

constexpr uint64_t tls_alert_no_application_protocol = 120;

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

bool closed(SSL* conn, SSL_CONN_CLOSE_INFO& info) {
  return SSL_get_conn_close_info(conn, &info, sizeof info) == 1;
}

std::string reason_text(const SSL_CONN_CLOSE_INFO& info) {
  if (!info.reason || info.reason_len == 0) return {};
  return std::string(info.reason, info.reason_len);
}

// OpenSSL closes with INTERNAL_ERROR when the socket fails, typically on an ICMP port
// unreachable reported to our connected socket.
bool network_error(const SSL_CONN_CLOSE_INFO& info) {
  return (info.flags & SSL_CONN_CLOSE_FLAG_LOCAL) && (info.flags & SSL_CONN_CLOSE_FLAG_TRANSPORT) &&
         info.error_code == OSSL_QUIC_ERR_INTERNAL_ERROR && info.reason &&
         std::string_view(info.reason, info.reason_len) == "network BIO I/O error";
}

// QUIC carries TLS alerts as transport errors 0x100 + alert (RFC 9001, 4.8).
bool is_tls_alert(const SSL_CONN_CLOSE_INFO& info) {
  return (info.flags & SSL_CONN_CLOSE_FLAG_TRANSPORT) &&
         info.error_code >= OSSL_QUIC_ERR_CRYPTO_ERR_BEGIN &&
         info.error_code <= OSSL_QUIC_ERR_CRYPTO_ERR_END;
}

std::string alert_text(const SSL_CONN_CLOSE_INFO& info) {
  int alert = static_cast<int>(info.error_code - OSSL_QUIC_ERR_CRYPTO_ERR_BEGIN);
  // OpenSSL's table predates these TLS 1.3 alerts (RFC 8446, 6).
  std::string name = SSL_alert_desc_string_long(alert);
  if (alert == 109) name = "missing extension";
  if (alert == 116) name = "certificate required";
  if (alert == 120) name = "no application protocol";
  return "TLS alert \"" + name + "\" (" + std::to_string(alert) + ")";
}

// A closed connection that ended in a TLS alert: ALPN, or another handshake failure.
Outcome alert_outcome(const SSL_CONN_CLOSE_INFO& info) {
  bool local = info.flags & SSL_CONN_CLOSE_FLAG_LOCAL;
  std::string who = local ? "we sent " : "the peer sent ";
  if (info.error_code == OSSL_QUIC_ERR_CRYPTO_ERR(tls_alert_no_application_protocol))
    return {Status::no_alpn, "no ALPN agreed: " + who + alert_text(info)};
  return {Status::handshake_failed, "handshake failed: " + who + alert_text(info)};
}

}  // namespace

Outcome describe_close(SSL* conn, Emitter& emitter, uint64_t bytes_in, uint64_t bytes_out) {
  SSL_CONN_CLOSE_INFO info{};
  if (!closed(conn, info))
    return {Status::internal, "connection failed: " + openssl_error_text()};

  bool local = info.flags & SSL_CONN_CLOSE_FLAG_LOCAL;
  bool transport = info.flags & SSL_CONN_CLOSE_FLAG_TRANSPORT;
  std::string reason = reason_text(info);
  emitter.emit(CloseEvent{local, transport, info.error_code, info.frame_type, reason, bytes_in,
                          bytes_out});

  std::string detail = (transport ? "transport error " : "application error ") +
                       hex(info.error_code) + (reason.empty() ? "" : " (" + reason + ")");
  if (is_tls_alert(info)) return alert_outcome(info);
  if (local && transport && info.error_code == OSSL_QUIC_LOCAL_ERR_IDLE_TIMEOUT)
    return {Status::idle_timeout, "connection idle timeout: no packets from the peer"};
  if (network_error(info))
    return {Status::io_error, "network error on the UDP socket (" + reason +
                                  "): the peer's port became unreachable?"};
  if (local) return {Status::internal, "connection closed locally: " + detail};
  if (transport) return {Status::peer_transport_error, "peer closed the connection: " + detail};
  return {Status::peer_app_error, "peer closed the connection: " + detail};
}

bool connection_closed(SSL* conn) {
  SSL_CONN_CLOSE_INFO info{};
  return closed(conn, info);
}

bool peer_closed_cleanly(SSL* conn) {
  SSL_CONN_CLOSE_INFO info{};
  return closed(conn, info) && !(info.flags & SSL_CONN_CLOSE_FLAG_LOCAL) && info.error_code == 0;
}

Outcome describe_handshake_failure(SSL* conn, const TlsContext* tls) {
  if (tls && tls->pin_rejected()) {
    ERR_clear_error();
    return {Status::verify_failed,
            "certificate sha256 fingerprint " + tls->pin_seen() + " does not match --pin-sha256"};
  }
  long verify = SSL_get_verify_result(conn);
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return {Status::verify_failed, std::string("certificate verification failed: ") +
                                       X509_verify_cert_error_string(verify)};
  }
  SSL_CONN_CLOSE_INFO info{};
  if (closed(conn, info)) {
    bool local = info.flags & SSL_CONN_CLOSE_FLAG_LOCAL;
    bool transport = info.flags & SSL_CONN_CLOSE_FLAG_TRANSPORT;
    std::string reason = reason_text(info);
    ERR_clear_error();
    if (is_tls_alert(info)) return alert_outcome(info);
    if (local && transport && info.error_code == OSSL_QUIC_LOCAL_ERR_IDLE_TIMEOUT)
      return {Status::handshake_timeout, "handshake timed out: no answer from the peer"};
    if (network_error(info))
      return {Status::handshake_failed,
              "handshake failed: the network refused our packets (ICMP port unreachable?): is "
              "a QUIC server listening on that UDP port?"};
    std::string who = local ? "closed locally" : "closed by the peer";
    return {Status::handshake_failed,
            "handshake failed, " + who + ": " + (transport ? "transport error " : "application error ") +
                hex(info.error_code) + (reason.empty() ? "" : " (" + reason + ")")};
  }
  return {Status::handshake_failed, "handshake failed: " + openssl_error_text()};
}

Outcome describe_stream_failure(SSL* stream, SSL* conn, bool reading, Emitter& emitter,
                                uint64_t bytes_in, uint64_t bytes_out) {
  int state = reading ? SSL_get_stream_read_state(stream) : SSL_get_stream_write_state(stream);
  uint64_t code = 0;
  uint64_t id = SSL_get_stream_id(stream);
  switch (state) {
    case SSL_STREAM_STATE_RESET_LOCAL:
      // Our send part was reset without us asking: OpenSSL does that when the peer sends
      // STOP_SENDING, with the peer's code. (A read part reset locally is our own doing and
      // never reaches here.)
    case SSL_STREAM_STATE_RESET_REMOTE:
      if (reading)
        SSL_get_stream_read_error_code(stream, &code);
      else
        SSL_get_stream_write_error_code(stream, &code);
      ERR_clear_error();
      emitter.emit(StreamEvent{id, StreamChange::reset_received, code});
      return {Status::stream_reset,
              std::string(reading ? "peer reset the stream" : "peer stopped reading the stream") +
                  " (code " + hex(code) + ")"};
    case SSL_STREAM_STATE_CONN_CLOSED:
      return describe_close(conn, emitter, bytes_in, bytes_out);
    default:
      return {Status::io_error,
              std::string(reading ? "stream read failed: " : "stream write failed: ") +
                  openssl_error_text()};
  }
}

}  // namespace quicc
