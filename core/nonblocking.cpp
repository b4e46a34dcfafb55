// The non-blocking driver: one thread, one poll() per turn (EventLoop), OpenSSL in
// non-blocking mode in a single-threaded domain.
#include <openssl/err.h>

#include "close_info.hpp"
#include "drivers.hpp"
#include "event_loop.hpp"
#include "pipe_session.hpp"

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

PipeSession::PipeSession(Connection& conn, RunContext& run, const PipeOptions& options)
    : conn_(conn), run_(run), options_(options), policy_(policy_settings(run)),
      pump_(conn, run.config), console_(run, conn, [this](SSL* s) { pump_.watch_own(s); }),
      meter_(run) {
  policy_.set_linger(linger_for(conn.handshake_rtt_us()));
  policy_.set_round_trip(conn.handshake_rtt_us());
}

bool PipeSession::turn(unsigned wake) {
  for (;;) {
    auto now = Clock::now();
    for (unsigned n = run_.interrupts.take_new(); n > 0; --n)
      policy_.interrupted(run_.interrupts.signal(), now);
    {
      const PipeFacts& f = pump_.facts();
      meter_due_ = meter_.tick(f.received, f.sent, conn_, now);
    }
    pump_.accept_streams();
    if (console_.on())
      console_.turn(policy_, pump_.facts(), stream_ids(pump_.streams()), meter_.started(), now);

    // What happened to the connection since the last turn.
    if (!closed_seen_ && options_.local_idle && !closing_ &&
        now - conn_.last_datagram_in() >= *options_.local_idle) {
      conn_.abort();
      closed_seen_ = true;
      policy_.connection_closed(local_idle_close());
    }
    if (!closed_seen_) {
      if (auto info = conn_.close_info()) {
        closed_seen_ = true;
        console_.closed(*info);
        policy_.connection_closed(*info);
      }
    }
    if (closing_ && !close_done_ && conn_.close_step(*closing_)) {
      close_done_ = true;
      policy_.close_finished(conn_.close_info());
    }
    if (closing_ && conn_.close_frame_sent()) policy_.close_frame_sent();

    Step step = policy_.decide(pump_.facts(), now);
    bool applied = pump_.apply(step, policy_);
    if (step.close) {
      closing_ = step.close;
      if (!close_done_ && conn_.close_step(*closing_)) {
        close_done_ = true;
        policy_.close_finished(conn_.close_info());
      }
      continue;  // decide again with the close under way
    }
    if (step.done) {
      console_.finished();
      conn_.report_end(pump_.moved());
      return false;
    }

    bool changed = pump_.pump(step, wake) || applied;
    // Anything that changed may change the decision: decide again before sleeping, without
    // waiting for the network (but letting OpenSSL process it).
    deadline_ = step.wake;
    if (changed || pump_.busy()) deadline_ = now;
    if (options_.local_idle && !closed_seen_)
      deadline_ = earliest(deadline_, conn_.last_datagram_in() + *options_.local_idle);
    deadline_ = earliest(deadline_, meter_due_);
    if (console_.wants_turn()) deadline_ = earliest(deadline_, now + console_retry);
    interest_ = pump_.interest(step);
    return true;
  }
}

Outcome pipe_nonblocking(Connection& conn, RunContext& run, const PipeOptions& options) {
  PipeSession session(conn, run, options);
  EventLoop loop(options.waiter ? options.waiter : conn.ssl(), run.emitter,
                 run.interrupts.wake_fd());
  unsigned wake = wake_none;
  while (session.turn(wake))
    wake = loop.wait(session.interest(), session.deadline(), session.take_turn_in(),
                     session.take_turn_out());
  return session.outcome();
}

}  // namespace quicc
