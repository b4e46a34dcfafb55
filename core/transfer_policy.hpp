// The session rules of pipe mode, written once for both drivers and both roles. TransferPolicy
// does no I/O: the driver tells it what happened (PipeFacts, and events such as an interrupt or
// the peer's close) and obeys the Step it returns: what to read, when to send FIN or reset,
// when and how to close. At the end it holds the one Outcome of the run. The rules of the
// stream itself (--on-eof, when its transfer is over, what was lost) are its StreamPolicy's;
// this class adds the connection's: interrupts, deadlines, failures, the peer's close, and how
// and when to close.
//
// The delivery contract it enforces: Status::ok means every byte the peer sent on the stream up
// to its FIN was written to the output, and everything we sent was acknowledged (or the user
// chose a close that does not wait, and nothing was left unacknowledged). After the peer closes
// the connection, what is already readable is still delivered. Anything less is
// Status::incomplete (or the peer's error), with a message saying what was lost.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "close_info.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "status.hpp"
#include "stream_policy.hpp"

namespace quicc {

using Clock = std::chrono::steady_clock;

// The pipe's stream facts, and what the connection as a whole adds to them.
struct PipeFacts : StreamFacts {
  std::optional<Outcome> local_error;  // reading the input or writing the output failed
  bool reset_left = false;  // our RESET_STREAM frame has left the host
  bool handshake_confirmed = true;  // a client has received HANDSHAKE_DONE (a server: always)
  bool key_update_safe = true;  // see Connection::key_update_safe
  bool peer_acked = true;  // we acknowledged every ack-eliciting packet the peer sent
  std::optional<Clock::time_point> peer_data_at;  // the peer's last STREAM frame or probe came
  bool loss_seen = false;  // a STREAM frame was retransmitted, either way, or the peer probed
  // Since the peer's last new data: the longest pause before it sent something again (its
  // probe timeout, which doubles each time our ACK does not reach it). Zero: none.
  Clock::duration peer_resend_gap{};
  Clock::time_point last_activity{};   // data last moved, either way (--idle-exit)
  // The blocking driver's sender is inside a write: input_read counts its bytes, `sent` does
  // not yet, though the stream may have taken (and the peer received) them.
  bool sending = false;
};

struct CloseRequest {
  bool rapid = false;      // no closing period (SSL_SHUTDOWN_FLAG_RAPID)
  bool flush = true;       // wait for our stream data to be acknowledged first
  bool wait_peer = false;  // let the peer close first
  uint64_t code = 0;       // application error code of our CONNECTION_CLOSE
  std::string reason;
  bool linger = false;  // stay for the closing period (ShutdownPolicy::closing_period)
};

// The close a transfer that ended well asks for: --shutdown, --close-code, --close-reason.
inline CloseRequest finished_close(const ShutdownPolicy& user) {
  return CloseRequest{user.rapid,      !user.rapid && !user.no_stream_flush,
                      user.wait_peer,  user.error_code,
                      user.reason,     user.closing_period && !user.rapid};
}

// What the driver does next.
struct Step {
  bool read_input = false;   // read the input and write the stream
  bool read_stream = false;  // read the stream and write the output
  bool send_fin = false;     // conclude our sending side (may open a stream for it)
  std::optional<uint64_t> reset_stream;  // reset our sending side with this code
  bool stop_reading = false;             // abandon the receiving side (STOP_SENDING)
  bool key_update = false;               // request a TLS key update now
  std::optional<CloseRequest> close;     // start the close, or make a running one rapid
  std::optional<Clock::time_point> wake;  // decide again by then at the latest
  bool done = false;                      // the run is over: see outcome()
};

class TransferPolicy {
 public:
  struct Settings {
    Role role = Role::client;
    EofPolicy on_eof = EofPolicy::fin;
    uint64_t eof_reset_code = 0;
    ExpectMode expect = ExpectMode::none;  // --expect, --expect-close
    ShutdownPolicy shutdown;
    std::optional<Clock::time_point> run_deadline;  // --timeout
    std::chrono::milliseconds timeout{0};           // its length, for the message
    std::chrono::milliseconds idle_exit{0};         // --idle-exit; 0: none
    std::optional<uint64_t> key_update_after;       // --key-update
    // How long a close we start for an interrupt, a deadline or a failure may take before it
    // turns rapid; and how long a rapid close waits for its CONNECTION_CLOSE to leave.
    std::chrono::milliseconds close_limit{500};
    std::chrono::milliseconds rapid_limit{250};
    // After we reset the stream: how long the peer gets to see the reset before we close
    // (OpenSSL shows a reset that arrives with the close as "connection closed").
    std::chrono::milliseconds linger{50};
    // Before a close that ends a transfer well: how long to wait for our ACK of the peer's
    // last packets to leave (OpenSSL delays ACKs by up to 25 ms).
    std::chrono::milliseconds ack_wait{100};
    // A transfer that ended well: the peer cannot know that our ACK of its last data arrived,
    // and a CONNECTION_CLOSE of ours that overtook a lost ACK would leave that data
    // unacknowledged in its eyes (it rightly reports a loss). The side that received data in
    // the last `quiet` (`quiet_lossy` once the path has shown loss) leaves the close to the
    // peer until it has been that long, acknowledging whatever the peer sends again; the peer
    // closes once it has our ACK. A listener waits twice as long, and at least
    // `listener_grace`, so that when both sides received last at about the same time the client
    // closes and only the client (a client's close may take a few hundred ms to start: a rapid
    // close clears its stream first, a close waits for our ACK to leave). Once the peer has sent
    // again after a pause (its probe timeout), at least twice that pause plus `quiet`
    // (PipeFacts::peer_resend_gap). Bounded by `quiet_cap` from the transfer's end (a peer
    // that keeps sending holds it no longer).
    std::chrono::milliseconds quiet{50};
    std::chrono::milliseconds quiet_lossy{600};
    std::chrono::milliseconds quiet_cap{3000};
    std::chrono::milliseconds listener_grace{1000};
    // How long a client's close waits for the handshake to be confirmed (HANDSHAKE_DONE).
    std::chrono::milliseconds confirm_wait{500};
  };

  explicit TransferPolicy(Settings settings);

  // Events. `now` is when the driver noticed.
  void interrupted(int signal, Clock::time_point now);
  // The connection closed without us asking: by the peer, the idle timer or the network.
  void connection_closed(const CloseInfo& info);
  // Our close finished (SSL_shutdown_ex returned 1, or the connection terminated anyway).
  void close_finished(const std::optional<CloseInfo>& info);
  // A CONNECTION_CLOSE frame of ours left the host (after a rapid close, the run waits for it).
  void close_frame_sent() { close_frame_sent_ = true; }
  void key_update_requested() {
    if (user_key_update_) user_key_update_ = false;
    else key_update_done_ = true;
    key_update_wait_until_.reset();
  }
  // An escape command typed at the terminal (commands.hpp). ~f, ~r and ~. choose what ends our
  // side at the input's EOF, which the terminal's reader makes next (as --on-eof fin, reset
  // and close would; ~. after our side ended closes as ~c 0 does); ~k asks for a key update;
  // ~c closes now, gracefully, waiting for our data to be acknowledged, with the code given.
  // False if the command can no longer do anything (the connection is closing).
  bool command(const UserCommand& command);
  void set_linger(std::chrono::milliseconds linger) { settings_.linger = linger; }
  // The quiet periods for a path of this round-trip time (see Settings::quiet).
  void set_round_trip(uint64_t rtt_us);

  Step decide(const PipeFacts& facts, Clock::time_point now);

  bool done() const { return phase_ == Phase::done; }
  // The run's outcome; final once done().
  const Outcome& outcome() const { return outcome_; }

 private:
  enum class Phase { transfer, draining, linger, closing, rapid_closing, done };

  Step transfer(const PipeFacts& f, Clock::time_point now);
  Step draining(const PipeFacts& f, Clock::time_point now);
  // Begins the close that ends the run with `why` (keeps the current outcome without one);
  // `limit`: how long it may take before it turns rapid (none: only --timeout bounds it).
  Step start_close(CloseRequest request, Clock::time_point now,
                   std::optional<std::chrono::milliseconds> limit, const PipeFacts& f,
                   std::optional<Outcome> why = std::nullopt);
  // Turns the running close rapid (past its limit, or a second interrupt).
  Step escalate(Clock::time_point now, const PipeFacts& f);
  // Hands `request` to the driver, or first clears the way for it (see clearing_).
  void issue(Step& s, CloseRequest request, Clock::time_point now, const PipeFacts& f);
  bool held_close_ready(const PipeFacts& f, Clock::time_point now) const;
  // Our close is over: settles the outcome.
  void finish(const PipeFacts& f);
  std::optional<Clock::time_point> next_deadline(const PipeFacts& f) const;
  // Until when a close that ends the transfer leaves the close to the peer (Settings::quiet);
  // empty: the peer sent no data lately, close now.
  std::optional<Clock::time_point> quiet_until(const PipeFacts& f) const;
  Outcome deadline_outcome(bool whole_run) const;

  Settings settings_;
  StreamPolicy stream_;
  Phase phase_ = Phase::transfer;
  Outcome outcome_;
  std::optional<CloseInfo> peer_close_;  // the connection closed under us (peer, idle, network)
  unsigned interrupts_ = 0;
  Clock::time_point phase_deadline_{};    // linger end, close limit, rapid limit
  std::optional<Clock::time_point> sending_wait_until_;  // draining: a write's count awaited
  std::optional<CloseRequest> pending_close_;  // asked for by an interrupt, not yet handed out
  std::optional<CloseRequest> lingered_close_;  // the close that follows a linger
  bool escalate_now_ = false;
  bool close_frame_sent_ = false;
  bool close_done_ = false;  // our close completed (or the connection ended meanwhile)
  // A close that does not wait for our data, held back until the stream is reset: OpenSSL 3.5
  // stops processing ACKs once a connection is closing, so a congestion window full of stream
  // data never opens again and the CONNECTION_CLOSE would never leave. Resetting the stream
  // drops its unsent data; the ACKs of what is in flight then make room for the close.
  // It is also held until the handshake is confirmed (see issue()).
  std::optional<CloseRequest> clearing_;
  Clock::time_point clearing_until_{};
  bool clear_first_ = false;  // the held close waits for the stream's reset to leave
  bool key_update_done_ = false;
  bool user_key_update_ = false;        // ~k, not made yet
  std::optional<CloseRequest> user_close_;  // ~c, not started yet
  std::optional<Clock::time_point> key_update_wait_until_;
  std::optional<Clock::time_point> ack_wait_until_;
  bool peer_close_grace_ = false;  // our close waits for the peer's, for a moment
  Clock::time_point grace_cap_{};  // ... and no longer than this
  uint64_t unacked_at_close_ = 0;
  bool close_waits_for_acks_ = false;
  bool peer_first_ = false;  // the peer's close came before ours finished
  bool prefer_peer_close_ = false;  // the peer reset the stream: its close, if any, explains
};

}  // namespace quicc
