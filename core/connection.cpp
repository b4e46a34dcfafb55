#include "connection.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdio>

#include "engine.hpp"
#include "tls.hpp"

namespace quicc {

namespace {

std::string asn1_time_text(const ASN1_TIME* t) {
  BIO* mem = BIO_new(BIO_s_mem());
  if (!mem) return {};
  ASN1_TIME_print(mem, t);
  char* data = nullptr;
  long n = BIO_get_mem_data(mem, &data);
  std::string out(data, n > 0 ? static_cast<size_t>(n) : 0);
  BIO_free(mem);
  return out;
}

// SSL_get_version() says "QUICv1" for a QUIC connection; the session knows the TLS version.
std::string tls_version_text(const SSL_SESSION* session) {
  int version = session ? SSL_SESSION_get_protocol_version(session) : 0;
  switch (version) {
    case TLS1_3_VERSION: return "TLSv1.3";
    case TLS1_2_VERSION: return "TLSv1.2";
    case 0: return "";
  }
  char text[16];
  std::snprintf(text, sizeof text, "0x%04x", version);
  return text;
}

std::atomic<bool> left_behind{false};

}  // namespace

bool threads_left_behind() { return left_behind; }

uint64_t shutdown_flags(const CloseRequest& request) {
  // NO_BLOCK under the blocking driver too: the caller's loop does the waiting, so that a
  // second interrupt or a deadline can still cut the close short.
  return SSL_SHUTDOWN_FLAG_NO_BLOCK | (request.rapid ? SSL_SHUTDOWN_FLAG_RAPID : 0) |
         (!request.flush || request.rapid ? SSL_SHUTDOWN_FLAG_NO_STREAM_FLUSH : 0) |
         (request.wait_peer && !request.rapid ? SSL_SHUTDOWN_FLAG_WAIT_PEER : 0);
}

Connection::Connection(SslPtr conn, Emitter& emitter, bool accepted)
    : conn_(std::move(conn)), emitter_(emitter), accepted_(accepted) {
  attach_wire_state(conn_.get(), wire_.get());
}

Connection::~Connection() {
  // Streams first: they hold references into the connection. Then the wire state is
  // detached (callbacks from OpenSSL's threads find none from then on: wire.cpp's registry),
  // and the connection freed.
  streams_.clear();
  if (conn_) detach_wire_state(conn_.get());
  conn_.reset();
  if (wire_leaked_) (void)wire_.release();
}

std::list<SSL*> Connection::accept_streams() {
  std::list<SSL*> fresh;
  while (SSL* s = SSL_accept_stream(conn_.get(), SSL_ACCEPT_STREAM_NO_BLOCK))
    fresh.push_back(adopt_accepted(SslPtr(s)));
  ERR_clear_error();
  return fresh;
}

SSL* Connection::adopt_accepted(SslPtr stream) {
  SSL* s = stream.get();
  emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::accepted, {}});
  std::lock_guard lock(streams_mutex_);
  streams_.push_back(std::move(stream));
  return s;
}

SSL* Connection::open_stream(bool wait_at_limit, std::string& error, bool uni) {
  ERR_clear_error();
  uint64_t flags = (wait_at_limit ? 0 : SSL_STREAM_FLAG_NO_BLOCK) | (uni ? SSL_STREAM_FLAG_UNI : 0);
  SslPtr stream(SSL_new_stream(conn_.get(), flags));
  if (!stream) {
    // At the peer's stream limit OpenSSL asks to wait for MAX_STREAMS.
    if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_STREAM_COUNT_LIMITED) {
      ERR_clear_error();
      return nullptr;
    }
    error = "cannot open a stream: " + openssl_error_text();
    return nullptr;
  }
  SSL* s = stream.get();
  emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::opened, {}});
  std::lock_guard lock(streams_mutex_);
  streams_.push_back(std::move(stream));
  return s;
}

void Connection::forget_stream(SSL* stream) {
  std::lock_guard lock(streams_mutex_);
  streams_.remove_if([stream](const SslPtr& p) { return p.get() == stream; });
  ERR_clear_error();
}

unsigned Connection::open_stream_count() {
  std::lock_guard lock(streams_mutex_);
  unsigned n = 0;
  for (auto& s : streams_)
    if (SSL_get_stream_read_state(s.get()) == SSL_STREAM_STATE_OK ||
        SSL_get_stream_write_state(s.get()) == SSL_STREAM_STATE_OK)
      ++n;
  ERR_clear_error();
  return n;
}

bool Connection::reset_streams(uint64_t code) {
  std::lock_guard lock(streams_mutex_);
  bool any = false;
  for (auto& s : streams_) {
    int state = SSL_get_stream_write_state(s.get());
    if (state != SSL_STREAM_STATE_OK && state != SSL_STREAM_STATE_FINISHED) continue;
    SSL_STREAM_RESET_ARGS args{code};
    if (SSL_stream_reset(s.get(), &args, sizeof args) == 1) {
      emitter_.emit(StreamEvent{SSL_get_stream_id(s.get()), StreamChange::reset_sent, code});
      any = true;
    }
  }
  ERR_clear_error();
  return any;
}

bool Connection::close_frame_sent() const {
  if (wire_->close_frame_packetized && SSL_net_write_desired(conn_.get()) == 0) return true;
  // Ended without a CONNECTION_CLOSE of ours to wait for: the peer closed first, the idle
  // timer fired, or the network failed.
  auto info = close_info();
  return info && (!info->local || idle_timed_out(*info) || network_failed(*info));
}

bool Connection::handshake_confirmed() const {
  return accepted_ || wire_->handshake_done_received;
}

bool Connection::reset_frame_sent() const {
  return wire_->reset_frame_packetized && SSL_net_write_desired(conn_.get()) == 0;
}

bool Connection::peer_acked() const {
  return !wire_->received_unacked && SSL_net_write_desired(conn_.get()) == 0;
}

Clock::time_point Connection::last_datagram_in() const {
  int64_t ns = wire_->last_datagram_in_ns;
  if (ns == 0) return created_;
  return Clock::time_point(Clock::duration(ns));
}

std::optional<Clock::time_point> Connection::last_peer_data_in() const {
  int64_t ns = wire_->last_peer_data_ns;
  if (ns == 0) return std::nullopt;
  return Clock::time_point(Clock::duration(ns));
}

bool Connection::loss_seen() const { return wire_->loss_seen; }

Clock::duration Connection::peer_resend_gap() const {
  return std::chrono::nanoseconds(wire_->peer_resend_gap_ns);
}

uint64_t Connection::handshake_rtt_us() const {
  uint64_t rtt = 0;
  SSL_get_handshake_rtt(conn_.get(), &rtt);
  return rtt;
}

bool Connection::close_step(const CloseRequest& request) {
  SSL_SHUTDOWN_EX_ARGS args{};
  args.quic_error_code = request.code;
  args.quic_reason = request.reason.empty() ? nullptr : request.reason.c_str();
  int rc = SSL_shutdown_ex(conn_.get(), shutdown_flags(request), &args, sizeof args);
  // Send what the close queued (its CONNECTION_CLOSE) now rather than at the next wait.
  SSL_handle_events(conn_.get());
  ERR_clear_error();
  if (rc == 1) {
    closing_period_ = ClosingPeriod::waited;
    return true;
  }
  // Our CONNECTION_CLOSE has left (or the peer's came first): unless asked to stay for the
  // closing period, the close is over; the caller ends, and its socket with it.
  if (!request.linger && close_frame_sent() && closed()) {
    closing_period_ = ClosingPeriod::skipped;
    return true;
  }
  // That tick may have ended the connection for good: a datagram answered by ICMP (the peer
  // died) or the idle timer end it at once, with no closing period. OpenSSL then wants neither
  // the network nor a timeout, so nothing would wake us to call SSL_shutdown again: a client
  // whose server died once everything was exchanged sat in poll() until --timeout.
  auto info = close_info();
  return info && (idle_timed_out(*info) || network_failed(*info));
}

void close_at_once(SSL* conn, uint64_t code, const char* reason) {
  SSL_SHUTDOWN_EX_ARGS args{};
  args.quic_error_code = code;
  args.quic_reason = reason;
  SSL_shutdown_ex(conn, SSL_SHUTDOWN_FLAG_RAPID | SSL_SHUTDOWN_FLAG_NO_BLOCK, &args, sizeof args);
  SSL_handle_events(conn);  // the CONNECTION_CLOSE leaves now
  ERR_clear_error();
}

void Connection::abort(uint64_t code, const char* reason) { close_at_once(conn_.get(), code, reason); }

std::optional<CloseInfo> Connection::close_info() const {
  std::optional<CloseInfo> info = read_close_info(conn_.get());
  if (info) {
    std::lock_guard lock(alpn_mutex_);
    info->alpn = alpn_;
  }
  return info;
}

Outcome Connection::report_handshake(Clock::time_point started, bool session_offered) {
  SSL* conn = conn_.get();
  HandshakeDoneEvent done;
  done.session_offered = session_offered;
  done.handshake_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count());
  done.resumed = SSL_session_reused(conn) == 1;
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
    X509_NAME_oneline(X509_get_issuer_name(peer), name, sizeof name);
    done.peer_issuer = name;
    done.peer_not_after = asn1_time_text(X509_get0_notAfter(peer));
  }
  done.verify_result = X509_verify_cert_error_string(SSL_get_verify_result(conn));
  uint64_t rtt = 0;
  if (SSL_get_handshake_rtt(conn, &rtt) == 1) done.rtt_us = rtt;
  done.tls_version = tls_version_text(SSL_get0_session(conn));
  certificate_ = peer_certificate_of(conn, unix_now());
  ERR_clear_error();
  {
    std::lock_guard lock(alpn_mutex_);
    alpn_ = done.alpn;
    cipher_ = done.cipher;
  }
  emitter_.emit(done);
  if (certificate_) emitter_.emit(PeerCertificateEvent{*certificate_});
  if (done.alpn.empty()) return {Status::no_alpn, "no ALPN agreed with the peer"};
  return {};
}

bool Connection::key_update_safe() const {
  return accepted_ ? wire_->ack_after_handshake_done.load() : wire_->handshake_done_received.load();
}

bool Connection::request_key_update(uint64_t after_bytes) {
  if (!key_update_safe()) return false;  // not yet: asked again later
  if (SSL_key_update(conn_.get(), SSL_KEY_UPDATE_REQUESTED) != 1) {
    ERR_clear_error();
    return false;
  }
  emitter_.emit(KeyUpdateEvent{after_bytes});
  return true;
}

void Connection::leak() {
  left_behind = true;
  std::lock_guard lock(streams_mutex_);
  for (auto& s : streams_) s.release();
  streams_.clear();
  // OpenSSL's threads may still call back into the wire state: it is never freed (this object
  // still reads it).
  wire_leaked_ = true;
  conn_.release();
}

void Connection::report_end(const Transferred& moved) {
  if (end_reported_) return;
  end_reported_ = true;
  std::optional<CloseInfo> info = close_info();
  if (!info) return;
  // No closing period after an idle timeout or a network failure; a peer's close that no
  // close step of ours waited for: its draining period was skipped.
  std::string period;
  if (!idle_timed_out(*info) && !network_failed(*info))
    period = closing_period_ == ClosingPeriod::waited ? "waited" : "skipped";
  emitter_.emit(CloseEvent{info->local, info->transport, info->code, info->frame_type,
                           info->reason, moved.in, moved.out, moved.unacked, period});
}

}  // namespace quicc
