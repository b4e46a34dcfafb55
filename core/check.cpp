#include "check.hpp"

#include <algorithm>

#include "event_loop.hpp"
#include "transfer_policy.hpp"

namespace quicc {

std::chrono::milliseconds ticket_wait(std::chrono::microseconds handshake_time) {
  auto twice = std::chrono::ceil<std::chrono::milliseconds>(2 * handshake_time);
  return std::clamp<std::chrono::milliseconds>(twice, std::chrono::milliseconds(100),
                                               std::chrono::milliseconds(1000));
}

Outcome check_connection(Connection& conn, RunContext& run, const TlsContext& tls,
                         std::chrono::microseconds handshake_time) {
  // The pipe's rules with an input that is over before it began: the stream policy closes at
  // once and opens no stream; interrupts, --timeout, the peer's close and the close itself
  // (held until the handshake is confirmed, bounded, rapid when asked) are the TransferPolicy's
  // as in any run. --key-update and --idle-exit have nothing to act on.
  TransferPolicy::Settings settings = policy_settings(run);
  settings.on_eof = EofPolicy::close;
  settings.idle_exit = std::chrono::milliseconds(0);
  settings.key_update_after.reset();
  TransferPolicy policy(settings);
  PipeFacts facts;
  facts.input_eof = true;

  // The one wait of both drivers: poll() on the socket, then SSL_handle_events, which never
  // blocks (in blocking mode too, where OpenSSL's assist thread only runs its timers).
  EventLoop loop(conn.ssl(), run.emitter, run.interrupts.wake_fd());
  const Clock::time_point ticket_deadline = Clock::now() + ticket_wait(handshake_time);
  const std::optional<Clock::time_point> run_deadline = run.run_deadline();
  bool disturbed = false;  // an interrupt or the connection's end: no more waiting for a ticket
  std::optional<CloseRequest> closing;
  bool close_done = false;
  bool closed_seen = false;
  for (;;) {
    auto now = Clock::now();
    for (unsigned n = run.interrupts.take_new(); n > 0; --n) {
      policy.interrupted(run.interrupts.signal(), now);
      disturbed = true;
    }
    if (!closed_seen) {
      if (auto info = conn.close_info()) {
        closed_seen = disturbed = true;
        policy.connection_closed(*info);
      }
    }
    if (closing && !close_done && conn.close_step(*closing)) {
      close_done = true;
      policy.close_finished(conn.close_info());
    }
    if (closing && conn.close_frame_sent()) policy.close_frame_sent();

    bool ticket_due = !disturbed && tls.tickets_received() == 0 && now < ticket_deadline &&
                      !(run_deadline && now >= *run_deadline);
    if (ticket_due) {
      loop.wait({}, earliest(ticket_deadline, run_deadline));
      continue;
    }

    facts.handshake_confirmed = conn.handshake_confirmed();
    facts.peer_acked = conn.peer_acked();
    facts.last_activity = now;
    Step step = policy.decide(facts, now);
    if (step.close) {
      closing = step.close;
      if (!close_done && conn.close_step(*closing)) {
        close_done = true;
        policy.close_finished(conn.close_info());
      }
      continue;  // decide again with the close under way
    }
    if (step.done) break;
    loop.wait({}, step.wake);
  }
  conn.report_end({});
  return policy.outcome();
}

}  // namespace quicc
