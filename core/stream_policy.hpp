// The rules of one stream carrying a local source to the peer and the peer's data to a local
// sink: what ends our sending side at source EOF (--on-eof), when the stream's transfer is over,
// and what was lost if it ended early. Pure, no I/O, one per stream: pipe mode has one (that may
// span two QUIC streams when both sides opened one, see pipe_streams.hpp); modes with many
// streams keep one per stream, and the connection's TransferPolicy decides over all of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "config.hpp"
#include "status.hpp"

namespace quicc {

// What a stream's two directions have done so far, as the I/O code counted it.
struct StreamFacts {
  // Local source -> peer.
  bool input_eof = false;
  uint64_t input_read = 0;  // bytes read from the source
  uint64_t sent = 0;        // bytes the stream accepted
  uint64_t unacked = 0;     // accepted but not yet acknowledged by the peer
  bool fin_sent = false;
  bool reset_sent = false;
  std::optional<uint64_t> stopped;  // the peer asked us to stop sending (STOP_SENDING code)
  // Peer -> local sink.
  bool stream_open = false;  // the stream exists (ours or the peer's)
  uint64_t received = 0;     // bytes read from the stream
  uint64_t written = 0;      // bytes written to the sink
  bool fin_received = false;
  // The peer's FIN came after ours had been sent: the peer finished its side after ours.
  bool peer_fin_after_ours = false;
  std::optional<uint64_t> reset_received;
  bool read_ended = false;  // the stream can give no more (FIN, reset, or the connection ended)
  bool output_closed = false;
  // The peer's data is to come on another stream of its own (both sides opened one at once:
  // pipe_streams.hpp) that has not arrived yet.
  bool receive_moved = false;
  // Every --expect pattern has matched the data received (core/expect.hpp).
  bool expect_met = false;
};

// What --expect does to the receiving side.
enum class ExpectMode {
  none,           // no --expect
  stop_at_match,  // once every pattern matched, reading stops: the match counts as the peer's FIN
  read_to_end,    // --expect-close: read on to the peer's FIN or close, as without --expect
};

// Whether a match of every --expect pattern ends reading now (ExpectMode::stop_at_match): once
// all our input has been sent and acknowledged (or our side was reset). Until then the peer's
// data is read, and written out, as usual: a peer that echoes stops reading ours while its own
// sending is blocked by our flow control, and the rest of ours, held back by its flow control in
// turn, would never be acknowledged.
inline bool match_ends_reading(const StreamFacts& f) {
  return f.expect_met && !f.fin_received &&
         ((f.input_eof && f.sent == f.input_read && f.unacked == 0) || f.reset_sent);
}

// What the I/O code does with the stream now.
struct StreamStep {
  bool read_input = false;   // read the source and write the stream
  bool read_stream = false;  // read the stream and write the sink
  bool send_fin = false;     // conclude our sending side (may open the stream for it)
  std::optional<uint64_t> reset_stream;  // reset our sending side with this code
};

class StreamPolicy {
 public:
  struct Settings {
    Role role = Role::client;
    EofPolicy on_eof = EofPolicy::fin;
    uint64_t eof_reset_code = 0;
    ExpectMode expect = ExpectMode::none;
  };

  explicit StreamPolicy(Settings settings) : settings_(settings) {}

  // Every snapshot of the facts, first (TransferPolicy::decide): notes when the peer's reset
  // first appeared.
  void observe(const StreamFacts& f);
  // The peer's reset answers ours: it came after ours had been sent, with code 0. A quicc
  // echo peer frees its stream once ours is reset, and OpenSSL resets its half with code 0:
  // that ends a transfer we gave up (--on-eof reset, ~r), it does not fail it. A reset with a
  // code of the peer's own, or one that came first, is the peer's failure to report.
  bool peer_reset_answers_ours(const StreamFacts& f) const {
    return peer_reset_answers_ours_ && f.reset_sent;
  }
  // What to do now; asks for the EOF action once.
  StreamStep next(const StreamFacts& f);
  // A terminal's escape command chose the EOF action instead of --on-eof (~f, ~r, ~.); false
  // if our side's end was already asked for.
  bool choose_eof(EofPolicy on_eof, uint64_t reset_code) {
    if (end_requested_ || nothing_to_send_) return false;
    settings_.on_eof = on_eof;
    settings_.eof_reset_code = reset_code;
    return true;
  }
  // The stream's transfer is over as --on-eof counts it (fin: both FINs and the sink has it
  // all; close and reset: our side ended and the sink has what arrived; ignore: the peer's FIN
  // and the sink has it all).
  // With --expect, a match of every pattern stands for the peer's FIN (stop_at_match), and
  // close and reset wait for it too (or for the end of the peer's data): an expectation is not
  // given up while it can still be met.
  bool finished(const StreamFacts& f) const;
  // The receiving side is over: the stream ended, or every --expect pattern matched
  // (stop_at_match). The drivers stop reading at either.
  bool reading_over(const StreamFacts& f) const { return f.read_ended || stopped_at_match(f); }
  // Reading stopped because every --expect pattern matched, before the peer's FIN.
  bool stopped_at_match(const StreamFacts& f) const {
    return settings_.expect == ExpectMode::stop_at_match && match_ends_reading(f);
  }
  // Our side ended with a reset the peer should get to see before a close overtakes it.
  bool ended_by_reset(const StreamFacts& f) const { return f.reset_sent && !nothing_to_send_; }
  // The contract's verdict on this stream: Status::ok, or Status::incomplete saying what was
  // lost. `peer_closed`: the connection was closed under us (a missing FIN is then a loss).
  // A peer's reset that answers ours (see peer_reset_answers_ours) is no failure.
  Outcome verdict(const StreamFacts& f, bool peer_closed) const;
  // Bytes of ours left unacknowledged when the peer closed cleanly count as delivered only if
  // the exchange was complete: our FIN was sent and the peer's FIN came after it. A peer that
  // closes right after its FIN may skip its last ACK (OpenSSL's close does not flush pending
  // ACKs), while having read everything, our FIN included, before it finished its side.
  static bool exchange_complete(const StreamFacts& f) {
    return f.fin_sent && f.fin_received && f.peer_fin_after_ours;
  }

 private:
  bool sending_over(const StreamFacts& f) const {
    return f.fin_sent || f.reset_sent || nothing_to_send_;
  }

  Settings settings_;
  bool nothing_to_send_ = false;  // source EOF with nothing sent and no stream to conclude
  bool end_requested_ = false;    // FIN or reset asked for at source EOF
  // The peer's reset, when observe() first saw it: after ours, with code 0.
  bool peer_reset_seen_ = false;
  bool peer_reset_answers_ours_ = false;
};

}  // namespace quicc
