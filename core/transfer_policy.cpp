#include "transfer_policy.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>

#include "close_info.hpp"

namespace quicc {

namespace {

// How long a transfer that is over waits for the key update it was asked to make (the peer's
// handshake must be confirmed first: see Connection::key_update_safe).
constexpr std::chrono::milliseconds key_update_wait{1000};

std::string duration_text(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s"
                               : std::to_string(d.count()) + "ms";
}

std::string bytes_text(uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

const char* signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
  }
  return "a signal";
}

std::optional<Clock::time_point> earliest(std::optional<Clock::time_point> a,
                                          std::optional<Clock::time_point> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

}  // namespace

TransferPolicy::TransferPolicy(Settings settings)
    : settings_(std::move(settings)),
      stream_({settings_.role, settings_.on_eof, settings_.eof_reset_code, settings_.expect}) {}

void TransferPolicy::interrupted(int signal, Clock::time_point now) {
  ++interrupts_;
  Outcome why{Status::interrupted, std::string("interrupted (") + signal_name(signal) + ")",
              signal};
  switch (phase_) {
    case Phase::transfer:
    case Phase::linger:
      // First interrupt: a graceful close, bounded, that does not wait for our data.
      outcome_ = why;
      pending_close_ = CloseRequest{false, false, false, close_code_interrupted, "interrupted",
                                    settings_.shutdown.closing_period};
      phase_ = Phase::closing;
      phase_deadline_ = now + settings_.close_limit;
      return;
    case Phase::draining:
      // The connection is gone already: nothing to close, stop delivering.
      outcome_ = why;
      phase_ = Phase::done;
      return;
    case Phase::closing:
      // A second interrupt: no more waiting of any kind.
      if (outcome_.ok() || outcome_.status != Status::interrupted) outcome_ = why;
      escalate_now_ = true;
      return;
    case Phase::rapid_closing:
      outcome_ = outcome_.status == Status::interrupted ? outcome_ : why;
      phase_ = Phase::done;
      return;
    case Phase::done:
      return;
  }
}

bool TransferPolicy::command(const UserCommand& command) {
  if (phase_ != Phase::transfer) return false;
  switch (command.kind) {
    case UserCommand::Kind::fin:
    case UserCommand::Kind::reset:
    case UserCommand::Kind::quit: {
      EofPolicy on_eof = command.kind == UserCommand::Kind::fin     ? EofPolicy::fin
                         : command.kind == UserCommand::Kind::reset ? EofPolicy::reset
                                                                    : EofPolicy::close;
      if (stream_.choose_eof(on_eof, command.code)) {
        settings_.on_eof = on_eof;
        settings_.eof_reset_code = command.code;
        return true;
      }
      if (command.kind != UserCommand::Kind::quit) return false;
      user_close_ = CloseRequest{false, true, false, 0, "", settings_.shutdown.closing_period};
      return true;
    }
    case UserCommand::Kind::key_update:
      user_key_update_ = true;
      return true;
    case UserCommand::Kind::close:
      user_close_ = CloseRequest{false, true, false, command.code, command.reason,
                                 settings_.shutdown.closing_period};
      return true;
    case UserCommand::Kind::info:
    case UserCommand::Kind::list:
    // The streams of ~n and ~u are the Console's: the pipe's rules do not change.
    case UserCommand::Kind::new_bidi:
    case UserCommand::Kind::new_uni:
    case UserCommand::Kind::use_stream:
    case UserCommand::Kind::send_data:
      return true;
  }
  return false;
}

void TransferPolicy::connection_closed(const CloseInfo& info) {
  if (!info.local) peer_first_ = true;
  switch (phase_) {
    case Phase::transfer:
      peer_close_ = info;
      phase_ = Phase::draining;
      return;
    case Phase::linger:
      // The peer reacted to our reset by closing: nothing left to do but report.
      peer_close_ = info;
      close_done_ = true;
      phase_ = Phase::closing;
      return;
    case Phase::closing:
    case Phase::rapid_closing:
      if (!info.local || idle_timed_out(info)) peer_close_ = info;
      return;
    case Phase::draining:
    case Phase::done:
      return;
  }
}

void TransferPolicy::close_finished(const std::optional<CloseInfo>& info) {
  if (info && (!info->local || idle_timed_out(*info))) peer_close_ = info;
  close_done_ = true;
}

void TransferPolicy::finish(const PipeFacts& f) {
  // A close we started: whoever closed first, a transfer that ended well stays a success,
  // unless the peer said "error", the connection idled out before our data was acknowledged,
  // or data was left unacknowledged (by a close that did not wait, or because the connection
  // ended before the one that waited could see it acknowledged).
  if ((outcome_.ok() || prefer_peer_close_) && peer_close_) {
    Outcome closed = close_outcome(*peer_close_);
    if (!closed.ok() && closed.status != Status::internal) outcome_ = closed;
  }
  // A close that waited for our data can only have been cut short by the peer's close.
  if (close_waits_for_acks_ &&
      !(peer_close_ && closed_cleanly_by_peer(*peer_close_) && StreamPolicy::exchange_complete(f)))
    unacked_at_close_ = f.unacked;
  if (outcome_.ok() && unacked_at_close_ > 0)
    outcome_ = {Status::incomplete,
                bytes_text(unacked_at_close_) +
                    " we sent were not acknowledged when the connection closed" +
                    (settings_.shutdown.rapid ? " (--shutdown rapid)"
                     : settings_.shutdown.no_stream_flush ? " (--no-stream-flush)"
                                                          : "")};
  phase_ = Phase::done;
}

Step TransferPolicy::decide(const PipeFacts& f, Clock::time_point now) {
  stream_.observe(f);
  switch (phase_) {
    case Phase::transfer: return transfer(f, now);
    case Phase::draining: return draining(f, now);
    case Phase::linger: {
      Step s;
      if (now >= phase_deadline_ || (settings_.run_deadline && now >= *settings_.run_deadline)) {
        s = start_close(*lingered_close_, now, settings_.close_limit, f);
      } else {
        s.wake = phase_deadline_;
      }
      return s;
    }
    case Phase::closing: {
      Step s;
      if (close_done_ && !pending_close_) {
        finish(f);
        s.done = true;
        return s;
      }
      if (pending_close_) {
        // An interrupt asked for this close between two decisions.
        CloseRequest request = *pending_close_;
        pending_close_.reset();
        close_waits_for_acks_ = request.flush;
        if (!request.flush) unacked_at_close_ = f.unacked;
        issue(s, std::move(request), now, f);
        s.wake = earliest(s.wake, earliest(phase_deadline_, settings_.run_deadline));
        return s;
      }
      bool past_run_deadline = settings_.run_deadline && now >= *settings_.run_deadline;
      // A second interrupt, the close's limit or --timeout: no more waiting of any kind (a
      // close still clearing its way is overtaken too).
      if (escalate_now_ || now >= phase_deadline_ || past_run_deadline) {
        if (peer_close_grace_ && !escalate_now_ && !past_run_deadline) {
          // The peer sent again (our ACK was lost, it retransmitted): quiet from then on.
          if (auto until = quiet_until(f); until && now < *until && now < grace_cap_) {
            phase_deadline_ = std::min(*until, grace_cap_);
            s.wake = earliest(phase_deadline_, settings_.run_deadline);
            return s;
          }
          // The peer did not close in time: close ourselves, gracefully. With every byte of
          // ours acknowledged, bounded: OpenSSL's stream flush also waits for the ACK of
          // frames such as the RESET_STREAM of a crossed stream's unused half, which a peer
          // that has gone (its own close lost) never sends; the close then sat until the idle
          // timeout (fault_cases (c): crossed streams at 30% loss, exit 11 after 32 s). Data
          // still unacknowledged is waited for as the user's policy says.
          peer_close_grace_ = false;
          const ShutdownPolicy& user = settings_.shutdown;
          phase_deadline_ = Clock::time_point::max();
          s.close = CloseRequest{false, !user.no_stream_flush, false, user.error_code, user.reason,
                                 user.closing_period};
          s.wake = settings_.run_deadline;
          if (f.unacked == 0) {
            phase_deadline_ =
                now + std::max(settings_.close_limit, f.loss_seen ? settings_.quiet_lossy : settings_.quiet);
            s.wake = earliest(phase_deadline_, s.wake);  // nothing else may wake the driver
          }
          return s;
        }
        if (past_run_deadline && outcome_.ok()) outcome_ = deadline_outcome(true);
        return escalate(now, f);
      }
      if (clearing_) {
        if (held_close_ready(f, now)) {
          s.close = std::move(*clearing_);
          clearing_.reset();
        } else {
          s.wake = std::min(clearing_until_, now + std::chrono::milliseconds(5));
          return s;
        }
      }
      s.wake = earliest(s.wake, earliest(phase_deadline_ == Clock::time_point::max()
                                             ? std::nullopt
                                             : std::optional(phase_deadline_),
                                         settings_.run_deadline));
      return s;
    }
    case Phase::rapid_closing: {
      Step s;
      if (clearing_) {
        if (held_close_ready(f, now)) {
          s.close = std::move(*clearing_);
          clearing_.reset();
          phase_deadline_ = now + settings_.rapid_limit;  // now for the frame to leave
          s.wake = phase_deadline_;
        } else {
          s.wake = std::min(clearing_until_, now + std::chrono::milliseconds(5));
        }
        return s;
      }
      if (close_frame_sent_ || now >= phase_deadline_) {
        finish(f);
        s.done = true;
        return s;
      }
      s.wake = phase_deadline_;
      return s;
    }
    case Phase::done: {
      Step s;
      s.done = true;
      return s;
    }
  }
  return {};
}

Step TransferPolicy::transfer(const PipeFacts& f, Clock::time_point now) {
  const ShutdownPolicy& user = settings_.shutdown;
  if (f.local_error)
    return start_close({false, false, false, user.error_code, user.reason, user.closing_period},
                       now, settings_.close_limit, f, *f.local_error);
  if (f.output_closed) {
    // Nobody reads what the peer sends any more: reset our side with our code and stop the
    // peer's, then close once the peer has had time to see the reset.
    Step s;
    if (!f.reset_sent && !f.fin_sent) s.reset_stream = close_code_output_closed;
    s.stop_reading = true;
    outcome_ = {Status::output_closed, "output closed by its reader; stopped reading"};
    lingered_close_ = CloseRequest{false, false, false, close_code_output_closed, "output closed",
                                   user.closing_period};
    phase_ = Phase::linger;
    phase_deadline_ = now + settings_.linger;
    s.wake = phase_deadline_;
    return s;
  }
  if (f.reset_received && !stream_.peer_reset_answers_ours(f)) {
    // A peer that resets the stream often closes the connection right after, and its close
    // says more (its code and reason): linger a moment for it before closing ourselves.
    outcome_ = {Status::stream_reset,
                *f.reset_received == stream_code_unknown
                    ? std::string("peer reset the stream (its code was lost with the connection's close)")
                    : "peer reset the stream (code " + hex_code(*f.reset_received) + ")"};
    prefer_peer_close_ = true;
    lingered_close_ = CloseRequest{true, false, false, user.error_code, user.reason};
    phase_ = Phase::linger;
    phase_deadline_ = now + settings_.linger;
    Step s;
    s.wake = phase_deadline_;
    return s;
  }
  if (f.stopped)
    return start_close({true, false, false, user.error_code, user.reason}, now,
                       settings_.close_limit, f,
                       Outcome{Status::stream_reset,
                               "peer stopped reading the stream (code " + hex_code(*f.stopped) + ")"});
  if (settings_.run_deadline && now >= *settings_.run_deadline)
    return start_close({false, false, false, close_code_timeout, "timeout"}, now,
                       settings_.close_limit, f, deadline_outcome(true));
  if (settings_.idle_exit.count() > 0 && now >= f.last_activity + settings_.idle_exit)
    return start_close({false, false, false, close_code_timeout, "idle"}, now,
                       settings_.close_limit, f, deadline_outcome(false));
  if (user_close_) {
    // ~c: the person ends the connection; what they sent must still be acknowledged for a 0.
    CloseRequest request = std::move(*user_close_);
    user_close_.reset();
    return start_close(std::move(request), now, std::nullopt, f);
  }

  Step s;
  StreamStep next = stream_.next(f);
  s.read_input = next.read_input;
  s.read_stream = next.read_stream;
  s.send_fin = next.send_fin;
  s.reset_stream = next.reset_stream;
  bool key_update_due = (settings_.key_update_after && !key_update_done_ && f.stream_open &&
                         f.sent >= *settings_.key_update_after) ||
                        user_key_update_;
  if (key_update_due && f.key_update_safe) s.key_update = true;

  bool finished = stream_.finished(f);
  if (key_update_due) {
    // The key update the user asked for is part of the transfer: a transfer that is over
    // before the key update may be made waits for it (an RTT or so), bounded.
    if (!key_update_wait_until_) key_update_wait_until_ = now + key_update_wait;
    if (now < *key_update_wait_until_) {
      s.wake = earliest(next_deadline(f), std::min(*key_update_wait_until_, now + std::chrono::milliseconds(5)));
      if (finished || !f.key_update_safe) return s;
    }
  }
  if (finished && !f.peer_acked) {
    // Our ACK of what the peer sent last (its FIN, say) may still be waiting for OpenSSL's ACK
    // delay; a CONNECTION_CLOSE overtaking it would leave the peer's data unacknowledged, which
    // the peer rightly reports as a loss. Wait for it a little, looking often.
    if (!ack_wait_until_) ack_wait_until_ = now + settings_.ack_wait;
    if (now < *ack_wait_until_) {
      s.wake = earliest(next_deadline(f), std::min(*ack_wait_until_, now + std::chrono::milliseconds(5)));
      return s;
    }
  }
  if (finished) {
    Outcome verdict = stream_.verdict(f, false);
    CloseRequest request = finished_close(user);
    if (stream_.ended_by_reset(f)) {
      // Let the reset reach the peer before the close overtakes it.
      outcome_ = verdict;
      lingered_close_ = request;
      phase_ = Phase::linger;
      phase_deadline_ = now + settings_.linger;
      Step l;
      l.wake = phase_deadline_;
      return l;
    }
    // A close after a transfer that ended well waits as long as the user's policy says:
    // only --timeout and interrupts cut it short.
    bool both_done = settings_.on_eof == EofPolicy::fin || settings_.on_eof == EofPolicy::ignore;
    if (both_done && !request.rapid && !request.wait_peer) {
      // The peer's last data came lately: it cannot know yet whether our ACK of it arrived,
      // so the close is left to the peer, which closes once it has that ACK, while ours
      // answers its retransmissions should the ACK be lost (Settings::quiet). Data that
      // came long ago was acknowledged, or the peer would have sent it again by now: close.
      // With --on-eof close or reset the user asked this side to close, and it does. So does
      // a side whose --expect matched (the peer may not have finished), after the same wait:
      // a FIN of the peer's in flight is then acknowledged before the close.
      if (auto until = quiet_until(f); until && now < *until) {
        request.wait_peer = true;
        peer_close_grace_ = true;
        grace_cap_ = now + settings_.quiet_cap;
        return start_close(request, now,
                           std::chrono::duration_cast<std::chrono::milliseconds>(*until - now) +
                               std::chrono::milliseconds(1),
                           f, verdict);
      }
    }
    return start_close(request, now, std::nullopt, f, verdict);
  }
  s.wake = next_deadline(f);
  if (settings_.expect == ExpectMode::stop_at_match && f.expect_met && !f.fin_received &&
      f.input_eof && f.sent == f.input_read && f.unacked > 0)
    // A match ends reading once our data is acknowledged (match_ends_reading), and no event
    // tells the blocking driver of an ACK: look again soon.
    s.wake = earliest(s.wake, now + std::chrono::milliseconds(10));
  return s;
}

Step TransferPolicy::draining(const PipeFacts& f, Clock::time_point now) {
  Step s;
  if (f.local_error && outcome_.ok()) {
    outcome_ = *f.local_error;
    phase_ = Phase::done;
  } else if (f.output_closed) {
    outcome_ = {Status::output_closed, "output closed by its reader; stopped reading"};
    phase_ = Phase::done;
  } else if (f.stream_open &&
             ((!stream_.reading_over(f) && !f.receive_moved) || f.written < f.received) &&
             !(settings_.run_deadline && now >= *settings_.run_deadline)) {
    // What the peer sent before it closed is still ours to deliver.
    s.read_stream = true;
    s.wake = settings_.run_deadline;
    return s;
  } else if (settings_.run_deadline && now >= *settings_.run_deadline) {
    outcome_ = deadline_outcome(true);
    phase_ = Phase::done;
  } else if (f.sending && (!sending_wait_until_ || now < *sending_wait_until_)) {
    // A write in progress is counted once it returns, which the connection's end makes it do
    // at once: a verdict before would call bytes the peer received "never sent" (seen under
    // load: a peer that closed as soon as our reply arrived). At most 100 ms.
    if (!sending_wait_until_) sending_wait_until_ = now + std::chrono::milliseconds(100);
    s.wake = std::min(*sending_wait_until_, now + std::chrono::milliseconds(2));
    return s;
  } else {
    Outcome closed = close_outcome(*peer_close_);
    outcome_ = closed.ok() ? stream_.verdict(f, true) : closed;
    phase_ = Phase::done;
  }
  s.done = true;
  return s;
}

Step TransferPolicy::start_close(CloseRequest request, Clock::time_point now,
                                 std::optional<std::chrono::milliseconds> limit,
                                 const PipeFacts& f, std::optional<Outcome> why) {
  if (why) outcome_ = *why;
  Step s;
  close_waits_for_acks_ = request.flush && !request.rapid;
  if (!close_waits_for_acks_) unacked_at_close_ = f.unacked;
  if (request.rapid) {
    phase_ = Phase::rapid_closing;
    phase_deadline_ = now + settings_.rapid_limit;
  } else {
    phase_ = Phase::closing;
    phase_deadline_ = limit ? now + *limit : Clock::time_point::max();
  }
  s.wake = earliest(phase_deadline_ == Clock::time_point::max()
                        ? std::nullopt
                        : std::optional(phase_deadline_),
                    settings_.run_deadline);
  issue(s, std::move(request), now, f);
  return s;
}

void TransferPolicy::issue(Step& s, CloseRequest request, Clock::time_point now,
                           const PipeFacts& f) {
  bool waits = request.flush && !request.rapid;
  clear_first_ = !waits && f.stream_open && f.unacked > 0 && !f.reset_sent && !f.stopped;
  if (clear_first_) s.reset_stream = request.code;
  if (clear_first_ || !f.handshake_confirmed) {
    // Held back: until the stream's reset has left (clearing), and until the handshake is
    // confirmed (a client's CONNECTION_CLOSE sent before HANDSHAKE_DONE goes in a Handshake
    // packet, which a server that already dropped those keys cannot read).
    clearing_until_ = std::min(now + (clear_first_ ? settings_.rapid_limit : settings_.confirm_wait),
                               phase_deadline_);
    clearing_ = std::move(request);
    s.wake = earliest(s.wake, std::min(clearing_until_, now + std::chrono::milliseconds(5)));
    return;
  }
  clearing_.reset();
  s.close = std::move(request);
}

bool TransferPolicy::held_close_ready(const PipeFacts& f, Clock::time_point now) const {
  if (now >= clearing_until_) return true;
  return (!clear_first_ || f.reset_left) && f.handshake_confirmed;
}

Step TransferPolicy::escalate(Clock::time_point now, const PipeFacts& f) {
  // Past the close's limit, or interrupted again: close rapidly. Data still unacknowledged
  // now is data the peer may never have had.
  escalate_now_ = false;
  if (close_waits_for_acks_) unacked_at_close_ = f.unacked;
  close_waits_for_acks_ = false;
  uint64_t code = interrupts_ > 0 ? close_code_interrupted : settings_.shutdown.error_code;
  std::string reason = interrupts_ > 0 ? "interrupted" : settings_.shutdown.reason;
  if (outcome_.status == Status::timeout || outcome_.status == Status::idle_timeout) {
    code = close_code_timeout;
    reason = outcome_.status == Status::timeout ? "timeout" : "idle";
  }
  Step s;
  phase_ = Phase::rapid_closing;
  phase_deadline_ = now + settings_.rapid_limit;
  s.wake = phase_deadline_;
  issue(s, CloseRequest{true, false, false, code, reason}, now, f);
  return s;
}

std::optional<Clock::time_point> TransferPolicy::quiet_until(const PipeFacts& f) const {
  if (!f.peer_data_at) return std::nullopt;
  auto quiet = f.loss_seen ? settings_.quiet_lossy : settings_.quiet;
  Clock::duration wait = quiet;
  if (settings_.role == Role::listener)
    wait = std::max<Clock::duration>(2 * quiet, settings_.listener_grace);
  // The peer sent its data again `gap` after the time before: our ACK did not reach it, and
  // if this one does not either, its next try comes twice that later (its probe timeout backs
  // off). A close of ours before that would leave its data unacknowledged in its eyes: under
  // load, with 10% loss, a peer's tries came more than `quiet_lossy` apart (fault_cases (b):
  // the listener exited 15, "638 bytes we sent were not acknowledged"). A pause longer than
  // the cap is not such a try: a keep-alive PING after an idle spell (every 15 s by default).
  if (f.peer_resend_gap > Clock::duration::zero() && f.peer_resend_gap <= settings_.quiet_cap)
    wait = std::max<Clock::duration>(wait, 2 * f.peer_resend_gap + settings_.quiet);
  return *f.peer_data_at + wait;
}

void TransferPolicy::set_round_trip(uint64_t rtt_us) {
  // The peer sends its data again a PTO after it last did: its smoothed RTT, four times the
  // RTT's variation (half the RTT at first) and its ACK delay (25 ms by default), about
  // 3 RTT + 26 ms. `quiet` lets one retransmission come, with a margin; it is also what an
  // exchange costs when both sides received last at about the same time and the peer does not
  // close (an echo: 50 ms on loopback). Once one came, `quiet_lossy` lets the four or five the
  // peer makes (backing off) come before one of our ACKs gets through on a path that drops one
  // packet in ten.
  auto rtt = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::microseconds(rtt_us));
  settings_.quiet = std::clamp<std::chrono::milliseconds>(4 * rtt + std::chrono::milliseconds(40),
                                                          std::chrono::milliseconds(50),
                                                          std::chrono::milliseconds(1000));
  settings_.quiet_lossy = std::clamp<std::chrono::milliseconds>(
      20 * rtt + std::chrono::milliseconds(300), std::chrono::milliseconds(600),
      std::chrono::milliseconds(2000));
  settings_.quiet_cap = std::max(std::chrono::milliseconds(3000), 3 * settings_.quiet_lossy);
}

std::optional<Clock::time_point> TransferPolicy::next_deadline(const PipeFacts& f) const {
  std::optional<Clock::time_point> wake = settings_.run_deadline;
  if (settings_.idle_exit.count() > 0) wake = earliest(wake, f.last_activity + settings_.idle_exit);
  return wake;
}

Outcome TransferPolicy::deadline_outcome(bool whole_run) const {
  if (whole_run)
    return {Status::timeout, "--timeout " + duration_text(settings_.timeout) + " reached"};
  return {Status::idle_timeout,
          "no data for " + duration_text(settings_.idle_exit) + " (--idle-exit)"};
}

}  // namespace quicc
