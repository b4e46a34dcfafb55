#include "session.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "ending.hpp"
#include "stream_pump.hpp"

namespace quicc {

Outcome report_handshake(SSL* conn, Emitter& emitter) {
  HandshakeDoneEvent done;
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(conn, &alpn, &alpn_len);
  done.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(conn)) done.cipher = SSL_CIPHER_get_name(cipher);
  if (const char* group = SSL_get0_group_name(conn)) done.group = group;
  if (X509* peer = SSL_get0_peer_certificate(conn)) {
    char name[512];
    X509_NAME_oneline(X509_get_subject_name(peer), name, sizeof name);
    done.peer_subject = name;
  }
  long verify = SSL_get_verify_result(conn);
  done.verify_result = X509_verify_cert_error_string(verify);
  uint64_t rtt = 0;
  if (SSL_get_handshake_rtt(conn, &rtt) == 1) done.rtt_us = rtt;
  emitter.emit(done);
  if (done.alpn.empty()) return {Status::no_alpn, "no ALPN agreed with the peer"};
  return {};
}

Outcome pipe_stream(SSL* conn, SSL* stream, const Config& config, EventLoop& loop,
                    Emitter& emitter, uint64_t& bytes_in, uint64_t& bytes_out) {
  PipePump pump(conn, stream, config.input_fd, config.output_fd, emitter);
  Outcome outcome;
  unsigned wake = wake_none;
  for (;;) {
    bool ok = pump.step(wake, outcome);
    bytes_in = pump.total_in();
    bytes_out = pump.total_out();
    if (!ok) return outcome;
    if (pump.finished()) return {};
    // With budget left over, turn again at once instead of waiting for the network.
    auto deadline = pump.busy() ? std::optional(Clock::now()) : std::nullopt;
    wake = loop.wait(pump.interest(), deadline, pump.take_turn_in(), pump.take_turn_out());
  }
}

Outcome close_connection(SSL* conn, EventLoop& loop, Emitter& emitter, uint64_t bytes_in,
                         uint64_t bytes_out) {
  for (;;) {
    int rc = SSL_shutdown(conn);
    if (rc == 1) break;
    if (rc < 0) {
      int err = SSL_get_error(conn, rc);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) break;
    }
    loop.wait({}, std::nullopt, 0, 0);
  }
  emitter.emit(ShutdownEvent{true});
  // Whoever closed first, the transfer itself completed: the close is reported, not judged.
  describe_close(conn, emitter, bytes_in, bytes_out);
  ERR_clear_error();
  return {};
}

void abort_connection(SSL* conn) {
  SSL_shutdown_ex(conn, SSL_SHUTDOWN_FLAG_RAPID | SSL_SHUTDOWN_FLAG_NO_BLOCK, nullptr, 0);
  ERR_clear_error();
}

}  // namespace quicc
