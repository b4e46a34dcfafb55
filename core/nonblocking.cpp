// The non-blocking driver: one thread, one poll() per turn (EventLoop), OpenSSL in
// non-blocking mode in a single-threaded domain.
#include <openssl/err.h>

#include "close_info.hpp"
#include "drivers.hpp"
#include "event_loop.hpp"
#include "pipe_pump.hpp"

namespace quicc {

Outcome handshake_nonblocking(Connection& conn, SSL* waiter, RunContext& run,
                              const HandshakeLimits& limits, const TlsContext* tls) {
  EventLoop loop(waiter, run.emitter, run.interrupts.wake_fd());
  auto run_deadline = run.run_deadline();
  for (;;) {
    if (run.interrupts.take_new() > 0) {
      conn.abort();
      return interrupted_outcome(run.interrupts.signal());
    }
    ERR_clear_error();
    int rc = SSL_do_handshake(conn.ssl());
    if (rc == 1) return {};
    int err = SSL_get_error(conn.ssl(), rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
      return describe_handshake_failure(conn.ssl(), tls);
    auto now = Clock::now();
    if (run_deadline && now >= *run_deadline) {
      conn.abort();
      return timeout_outcome(run.config);
    }
    if (now >= limits.deadline) {
      conn.abort();
      return handshake_timeout_outcome(run.config, limits.next_address_after);
    }
    loop.wait({}, earliest(limits.deadline, run_deadline));
  }
}

Outcome pipe_nonblocking(Connection& conn, RunContext& run, const PipeOptions& options) {
  TransferPolicy policy(policy_settings(run));
  policy.set_linger(linger_for(conn.handshake_rtt_us()));
  PipePump pump(conn, run.config);
  EventLoop loop(options.waiter ? options.waiter : conn.ssl(), run.emitter,
                 run.interrupts.wake_fd());

  std::optional<CloseRequest> closing;  // our close, once the policy asked for it
  bool close_done = false;
  bool closed_seen = false;
  unsigned wake = wake_none;
  for (;;) {
    auto now = Clock::now();
    for (unsigned n = run.interrupts.take_new(); n > 0; --n)
      policy.interrupted(run.interrupts.signal(), now);
    pump.accept_streams();

    // What happened to the connection since the last turn.
    if (!closed_seen && options.local_idle && !closing &&
        now - conn.last_datagram_in() >= *options.local_idle) {
      conn.abort();
      closed_seen = true;
      policy.connection_closed(local_idle_close());
    }
    if (!closed_seen) {
      if (auto info = conn.close_info()) {
        closed_seen = true;
        policy.connection_closed(*info);
      }
    }
    if (closing && !close_done && conn.close_step(*closing)) {
      close_done = true;
      policy.close_finished(conn.close_info());
    }
    if (closing && conn.close_frame_sent()) policy.close_frame_sent();

    Step step = policy.decide(pump.facts(), now);
    bool applied = pump.apply(step, policy);
    if (step.close) {
      closing = step.close;
      if (!close_done && conn.close_step(*closing)) {
        close_done = true;
        policy.close_finished(conn.close_info());
      }
      continue;  // decide again with the close under way
    }
    if (step.done) break;

    bool changed = pump.pump(step, wake) || applied;
    // Anything that changed may change the decision: decide again before sleeping, without
    // waiting for the network (but letting OpenSSL process it).
    std::optional<Clock::time_point> deadline = step.wake;
    if (changed || pump.busy()) deadline = now;
    if (options.local_idle && !closed_seen)
      deadline = earliest(deadline, conn.last_datagram_in() + *options.local_idle);
    wake = loop.wait(pump.interest(step), deadline, pump.take_turn_in(), pump.take_turn_out());
  }
  conn.report_end(pump.moved());
  return pump.judged(policy.outcome());
}

}  // namespace quicc
