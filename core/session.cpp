#include "session.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>

#include "ending.hpp"
#include "stream_pump.hpp"

namespace quicc {

namespace {

std::string duration_text(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s"
                               : std::to_string(d.count()) + "ms";
}


// The ShutdownPolicy that ends a run with this outcome.
ShutdownPolicy policy_for(const Config& config, const Outcome& outcome) {
  ShutdownPolicy p = config.shutdown;
  switch (outcome.status) {
    case Status::ok:
      if (p.rapid) p.no_stream_flush = true;  // rapid means no waiting of any kind
      return p;
    case Status::interrupted:
      p = {false, true, false, close_code_interrupted, "interrupted"};
      return p;
    case Status::output_closed:
      p = {false, true, false, close_code_output_closed, "output closed"};
      return p;
    case Status::timeout:
    case Status::idle_timeout:
      p = {false, true, false, close_code_timeout, outcome.status == Status::timeout ? "timeout" : "idle"};
      return p;
    default:
      // The transfer failed: close at once with the user's code, nothing left worth flushing.
      p.rapid = true;
      p.no_stream_flush = true;
      p.wait_peer = false;
      return p;
  }
}

}  // namespace

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

bool request_key_update(SSL* conn, Emitter& emitter, uint64_t after_bytes) {
  if (SSL_key_update(conn, SSL_KEY_UPDATE_REQUESTED) != 1) {
    ERR_clear_error();
    return false;
  }
  emitter.emit(KeyUpdateEvent{after_bytes});
  return true;
}

Outcome report_handshake(SSL* conn, Emitter& emitter, Clock::time_point started) {
  HandshakeDoneEvent done;
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
  long verify = SSL_get_verify_result(conn);
  done.verify_result = X509_verify_cert_error_string(verify);
  uint64_t rtt = 0;
  if (SSL_get_handshake_rtt(conn, &rtt) == 1) done.rtt_us = rtt;
  emitter.emit(done);
  if (done.alpn.empty()) return {Status::no_alpn, "no ALPN agreed with the peer"};
  return {};
}

void apply_write_mode(SSL* stream, const Config& config) {
  const long partial = SSL_MODE_ENABLE_PARTIAL_WRITE, moving = SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
  if (config.partial_write) SSL_set_mode(stream, partial); else SSL_clear_mode(stream, partial);
  if (config.moving_buffer) SSL_set_mode(stream, moving); else SSL_clear_mode(stream, moving);
}

std::optional<Clock::time_point> run_deadline(const Config& config, Clock::time_point started) {
  if (config.timeout.count() <= 0) return std::nullopt;
  return started + config.timeout;
}

Outcome deadline_outcome(Status status, const Config& config) {
  if (status == Status::timeout)
    return {Status::timeout, "--timeout " + duration_text(config.timeout) + " reached"};
  return {Status::idle_timeout, "no data for " + duration_text(config.idle_exit) + " (--idle-exit)"};
}

bool take_interrupt(int interrupt_fd) {
  if (interrupt_fd < 0) return false;
  char c;
  return ::read(interrupt_fd, &c, 1) == 1;
}

Outcome pipe_stream(SSL* conn, SSL* stream, const Config& config, EventLoop& loop,
                    Emitter& emitter, Clock::time_point started, Transferred& moved) {
  PipePump pump(conn, stream, config, emitter);
  auto deadline_of_run = run_deadline(config, started);
  Outcome outcome;
  unsigned wake = wake_none;
  for (;;) {
    if ((wake & wake_signal) && take_interrupt(config.interrupt_fd))
      return {Status::interrupted, "interrupted"};
    bool ok = pump.step(wake, outcome);
    moved = {pump.total_in(), pump.total_out()};
    if (!ok) {
      // With --on-eof ignore only the peer ends the connection; a clean close is success.
      if (config.on_eof == EofPolicy::ignore && peer_closed_cleanly(conn)) return {};
      return outcome;
    }
    if (pump.finished()) return {};
    // The peer may close the connection after finishing its side while our input is still
    // open (an interactive session it ended): nothing more can be sent, so the run is over.
    if (connection_closed(conn)) return peer_closed_outcome(conn, emitter, pump.idle_input(), moved);

    auto now = Clock::now();
    if (deadline_of_run && now >= *deadline_of_run) return deadline_outcome(Status::timeout, config);
    std::optional<Clock::time_point> deadline = deadline_of_run;
    if (config.idle_exit.count() > 0) {
      auto idle_deadline = pump.last_activity() + config.idle_exit;
      if (now >= idle_deadline) return deadline_outcome(Status::idle_timeout, config);
      deadline = deadline ? std::min(*deadline, idle_deadline) : idle_deadline;
    }
    // With budget left over, turn again at once instead of waiting for the network.
    if (pump.busy()) deadline = now;
    PipeInterest interest = pump.interest();
    interest.interrupt_fd = config.interrupt_fd;
    wake = loop.wait(interest, deadline, pump.take_turn_in(), pump.take_turn_out());
  }
}

Outcome finish_connection(SSL* conn, SslPtr& stream, const Config& config, EventLoop& loop,
                          Emitter& emitter, Outcome outcome, const Transferred& moved,
                          std::optional<Clock::time_point> deadline) {
  // Closed by the peer (or the idle timer): whoever saw it has reported it. A close we started
  // ourselves (the blocking driver's interrupt watcher) still gets its closing period below.
  if (SSL_CONN_CLOSE_INFO info{}; SSL_get_conn_close_info(conn, &info, sizeof info) == 1 &&
                                  !(info.flags & SSL_CONN_CLOSE_FLAG_LOCAL && !(info.flags & SSL_CONN_CLOSE_FLAG_TRANSPORT)))
    return outcome;

  bool reset_by_policy = outcome.ok() && config.on_eof == EofPolicy::reset;
  if ((outcome.status == Status::output_closed || reset_by_policy) && stream) {
    // Nobody reads what the peer sends any more: reset our side with our code, and free the
    // stream, which sends STOP_SENDING for the peer's side (OpenSSL has no call for it; its
    // code is 0). Frames queued once the close starts are never sent, so let them leave first:
    // a couple of round trips, at most 200 ms.
    // (With --on-eof reset the stream was reset already; only the linger is needed.)
    uint64_t id = SSL_get_stream_id(stream.get());
    SSL_STREAM_RESET_ARGS args{close_code_output_closed};
    if (!reset_by_policy && SSL_stream_reset(stream.get(), &args, sizeof args) == 1)
      emitter.emit(StreamEvent{id, StreamChange::reset_sent, close_code_output_closed});
    stream.reset();
    // OpenSSL reports a stream as "connection closed" once the connection is, even if its
    // reset arrived first, so the peer needs time to see the reset on its own: a few round
    // trips, 50 to 250 ms, cut short when the peer reacts by closing.
    uint64_t rtt_us = 0;
    SSL_get_handshake_rtt(conn, &rtt_us);
    auto linger = std::clamp<std::chrono::microseconds>(std::chrono::microseconds(4 * rtt_us),
                                                        std::chrono::milliseconds(50),
                                                        std::chrono::milliseconds(250));
    auto until = Clock::now() + linger;
    SSL_handle_events(conn);
    while (Clock::now() < until && !connection_closed(conn)) loop.wait({}, until, 0, 0);
    if (connection_closed(conn)) {
      describe_close(conn, emitter, moved.in, moved.out);
      return outcome;
    }
  }

  ShutdownPolicy policy = policy_for(config, outcome);
  // NO_BLOCK: under the blocking driver too, this loop does the waiting, so that a second
  // interrupt can still cut the close short.
  uint64_t flags = SSL_SHUTDOWN_FLAG_NO_BLOCK | (policy.rapid ? SSL_SHUTDOWN_FLAG_RAPID : 0) |
                   (policy.no_stream_flush ? SSL_SHUTDOWN_FLAG_NO_STREAM_FLUSH : 0) |
                   (policy.wait_peer ? SSL_SHUTDOWN_FLAG_WAIT_PEER : 0);
  SSL_SHUTDOWN_EX_ARGS args{};
  args.quic_error_code = policy.error_code;
  args.quic_reason = policy.reason.empty() ? nullptr : policy.reason.c_str();

  emitter.emit(ShutdownEvent{false});
  for (;;) {
    int rc = SSL_shutdown_ex(conn, flags, &args, sizeof args);
    if (rc == 1) break;
    if (flags & SSL_SHUTDOWN_FLAG_RAPID) {
      // Rapid: one CONNECTION_CLOSE, sent now, and no waiting for acknowledgements or for the
      // closing period (OpenSSL leaves the connection "terminating" until it is freed).
      SSL_handle_events(conn);
      break;
    }
    if (rc < 0) {
      int err = SSL_get_error(conn, rc);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) break;
    }
    unsigned wake = loop.wait({-1, -1, config.interrupt_fd}, deadline, 0, 0);
    if ((wake & wake_signal) && take_interrupt(config.interrupt_fd)) {
      // A second interrupt (or a first one while closing): stop waiting for anything.
      flags = (flags | SSL_SHUTDOWN_FLAG_RAPID | SSL_SHUTDOWN_FLAG_NO_STREAM_FLUSH) &
              ~uint64_t{SSL_SHUTDOWN_FLAG_WAIT_PEER};
      if (outcome.ok()) outcome = {Status::interrupted, "interrupted while closing"};
    }
    if (deadline && Clock::now() >= *deadline) {
      flags = (flags | SSL_SHUTDOWN_FLAG_RAPID | SSL_SHUTDOWN_FLAG_NO_STREAM_FLUSH) &
              ~uint64_t{SSL_SHUTDOWN_FLAG_WAIT_PEER};
      deadline.reset();
      if (outcome.ok()) outcome = deadline_outcome(Status::timeout, config);
    }
  }
  emitter.emit(ShutdownEvent{true});
  Outcome closed = describe_close(conn, emitter, moved.in, moved.out);
  ERR_clear_error();
  // Whoever closed first, a transfer that ended well stays a success, unless the connection
  // idled out before our data was acknowledged (the peer may not have it all), or the peer
  // closed with an error code: a peer that says "error" is reported, whatever we had done.
  bool peer_error = (closed.status == Status::peer_transport_error ||
                     closed.status == Status::peer_app_error) &&
                    !peer_closed_cleanly(conn);
  if (outcome.ok() && (closed.status == Status::idle_timeout || peer_error)) return closed;
  return outcome;
}

SslPtr wait_for_connection(SSL* listener, const Config& config, EventLoop& loop,
                           std::optional<Clock::time_point> deadline, Outcome& outcome) {
  for (;;) {
    if (SslPtr conn{SSL_accept_connection(listener, SSL_ACCEPT_CONNECTION_NO_BLOCK)}) {
      SSL_set_default_stream_mode(conn.get(), SSL_DEFAULT_STREAM_MODE_NONE);
      return conn;
    }
    ERR_clear_error();
    unsigned wake = loop.wait({-1, -1, config.interrupt_fd}, deadline, 0, 0);
    if ((wake & wake_signal) && take_interrupt(config.interrupt_fd)) {
      outcome = {Status::interrupted, "interrupted"};
      return nullptr;
    }
    if (deadline && Clock::now() >= *deadline) {
      outcome = deadline_outcome(Status::timeout, config);
      return nullptr;
    }
  }
}

SslPtr wait_for_stream(SSL* conn, const Config& config, EventLoop& loop, Emitter& emitter,
                       std::optional<Clock::time_point> deadline, Outcome& outcome) {
  SslPtr stream;
  while (!(stream = SslPtr(SSL_accept_stream(conn, SSL_ACCEPT_STREAM_NO_BLOCK)))) {
    if (connection_closed(conn)) {
      outcome = describe_close(conn, emitter, 0, 0);
      return nullptr;
    }
    unsigned wake = loop.wait({-1, -1, config.interrupt_fd}, deadline, 0, 0);
    if ((wake & wake_signal) && take_interrupt(config.interrupt_fd)) {
      outcome = finish_connection(conn, stream, config, loop, emitter,
                                  {Status::interrupted, "interrupted"}, {}, deadline);
      return nullptr;
    }
    if (deadline && Clock::now() >= *deadline) {
      outcome = finish_connection(conn, stream, config, loop, emitter,
                                  deadline_outcome(Status::timeout, config), {}, deadline);
      return nullptr;
    }
  }
  emitter.emit(StreamEvent{SSL_get_stream_id(stream.get()), StreamChange::accepted, {}});
  apply_write_mode(stream.get(), config);
  return stream;
}

Outcome peer_closed_outcome(SSL* conn, Emitter& emitter, bool nothing_unsent,
                            const Transferred& moved) {
  Outcome closed = describe_close(conn, emitter, moved.in, moved.out);
  if (peer_closed_cleanly(conn)) {
    if (nothing_unsent) return {};
    return {Status::peer_app_error, "peer closed the connection before our input was sent"};
  }
  return closed;
}

void abort_connection(SSL* conn) {
  SSL_shutdown_ex(conn, SSL_SHUTDOWN_FLAG_RAPID | SSL_SHUTDOWN_FLAG_NO_BLOCK, nullptr, 0);
  SSL_handle_events(conn);
  ERR_clear_error();
}

}  // namespace quicc
