#include "session.hpp"

#include <openssl/err.h>
#include <openssl/quic.h>
#include <openssl/x509.h>

#include <algorithm>
#include <csignal>

#include "connection.hpp"
#include "event_loop.hpp"
#include "tls.hpp"

namespace quicc {

std::string duration_text(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s"
                               : std::to_string(d.count()) + "ms";
}

namespace {

}  // namespace

Outcome interrupted_outcome(int signal) {
  const char* name = signal == SIGTERM ? "SIGTERM" : signal == SIGHUP ? "SIGHUP" : "SIGINT";
  return {Status::interrupted, std::string("interrupted (") + name + ")",
          signal ? signal : SIGINT};
}

Outcome timeout_outcome(const Config& config) {
  return {Status::timeout, "--timeout " + duration_text(config.timeout) + " reached"};
}

Outcome idle_exit_outcome(const Config& config) {
  return {Status::idle_timeout, "no data for " + duration_text(config.idle_exit) + " (--idle-exit)"};
}

Outcome describe_handshake_failure(SSL* conn, const TlsContext* tls) {
  HandshakeFailure f;
  f.rejected_pin = tls && tls->pin_rejected() ? tls->pin_seen() : std::string();
  f.fallback = openssl_error_text(&f.system_error);
  ERR_clear_error();
  f.close = read_close_info(conn);
  f.verify_result = SSL_get_verify_result(conn);
  if (f.verify_result != X509_V_OK || !f.rejected_pin.empty())
    f.certificate = peer_certificate_of(conn, unix_now());
  f.client = tls && tls->client();
  if (tls) {
    f.verified_host = tls->verified_host();
    f.failed_depth = tls->verify_failure().depth;
    f.failed_subject = tls->verify_failure().subject;
  }
  ERR_clear_error();
  return handshake_outcome(f);
}

Outcome handshake_timeout_outcome(const Config& config, bool per_address) {
  std::string what = config.role == Role::client
                         ? "no handshake with " + config.endpoint.to_string()
                         : std::string("client handshake not done");
  return {Status::handshake_timeout,
          what + " within " + (per_address ? std::string("the per-address wait")
                                           : std::to_string(config.connect_timeout.count()) + " ms")};
}

RunEnding run_ending(RunContext& run, Clock::time_point last_activity, Clock::time_point now) {
  const Config& config = run.config;
  RunEnding e;
  if (run.interrupts.take_new() > 0) {
    e.outcome = interrupted_outcome(run.interrupts.signal());
    e.close = {false, false, false, close_code_interrupted, "interrupted"};
  } else if (run.run_deadline() && now >= *run.run_deadline()) {
    e.outcome = timeout_outcome(config);
  } else if (config.idle_exit.count() > 0 && now >= last_activity + config.idle_exit) {
    e.outcome = idle_exit_outcome(config);
    e.close.reason = "idle";
  }
  // The closing period when the user's policy keeps one (ShutdownPolicy::closing_period: every
  // listener, or --shutdown full): a listener's clients may still be sending, and a port that is
  // gone answers them with ICMP errors that Linux reports before the CONNECTION_CLOSE waiting in
  // their sockets.
  e.close.linger = config.shutdown.closing_period;
  return e;
}

TransferMeter::TransferMeter(RunContext& run)
    : run_(run), started_(Clock::now()), next_(started_ + progress_interval) {}

std::optional<Clock::time_point> TransferMeter::tick(uint64_t bytes_in, uint64_t bytes_out,
                                                     Connection& conn, Clock::time_point now) {
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - started_);
  if (run_.interrupts.take_status())
    conn.emitter().emit(StatusEvent{bytes_in, bytes_out, elapsed, conn.open_stream_count()});
  if (!run_.config.progress) return std::nullopt;
  if (now >= next_) {
    conn.emitter().emit(ProgressEvent{bytes_in, bytes_out, elapsed});
    next_ = now + progress_interval;
  }
  return next_;
}

void close_fetch(Connection& conn, RunContext& run, EventLoop& loop, Outcome& ending,
                 CloseRequest& request) {
  if (conn.closed()) return;
  if (ending.ok()) {
    auto until = Clock::now() + std::chrono::milliseconds(100);
    while (!conn.peer_acked() && Clock::now() < until) {
      if (run.interrupts.take_new() > 0) {  // interrupted while waiting: close at once
        ending = interrupted_outcome(run.interrupts.signal());
        request = CloseRequest{true, false, false, close_code_interrupted, "interrupted"};
        break;
      }
      loop.wait({}, until);
    }
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(ending.ok() ? 1000 : 500);
  while (!conn.close_step(request) || !conn.close_frame_sent()) {
    if (Clock::now() >= deadline) break;
    if (run.interrupts.take_new() > 0) request.rapid = true;
    loop.wait({}, std::min(deadline, Clock::now() + std::chrono::milliseconds(10)));
  }
}

CloseInfo local_idle_close() {
  CloseInfo info;
  info.local = true;
  info.transport = true;
  info.code = OSSL_QUIC_LOCAL_ERR_IDLE_TIMEOUT;
  return info;
}

TransferPolicy::Settings policy_settings(const RunContext& run) {
  const Config& c = run.config;
  TransferPolicy::Settings s;
  s.role = c.role;
  s.on_eof = c.on_eof;
  s.eof_reset_code = c.eof_reset_code;
  if (!c.expect.empty())
    s.expect = c.expect_close ? ExpectMode::read_to_end : ExpectMode::stop_at_match;
  s.shutdown = c.shutdown;
  s.run_deadline = run.run_deadline();
  s.timeout = c.timeout;
  s.idle_exit = c.idle_exit;
  s.key_update_after = c.key_update_after;
  return s;
}

std::chrono::milliseconds linger_for(uint64_t rtt_us) {
  // OpenSSL reports a stream as "connection closed" once the connection is, even if its
  // reset arrived first, so the peer needs a few round trips to see the reset on its own:
  // 50 to 250 ms, cut short when the peer reacts by closing.
  auto rtts = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::microseconds(4 * rtt_us));
  return std::clamp<std::chrono::milliseconds>(rtts, std::chrono::milliseconds(50),
                                               std::chrono::milliseconds(250));
}

std::optional<Clock::time_point> earliest(std::optional<Clock::time_point> a,
                                          std::optional<Clock::time_point> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

}  // namespace quicc
