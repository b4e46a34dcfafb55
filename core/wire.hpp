// What crosses the wire, seen through OpenSSL's message callback: the one callback a context
// has serves four purposes.
// - It notices when a CONNECTION_CLOSE frame of ours is packetized: after a rapid close the
//   run waits until that packet has left the host (a congestion window full of stream data
//   holds it back, and exiting before then means the peer never learns of the close).
// - It notices whether everything ack-eliciting the peer sent has been acknowledged by an ACK
//   frame of ours, so that a close that ends a transfer can wait for that ACK (see
//   TransferPolicy::Settings::ack_wait).
// - It stamps the time a datagram last arrived, for the listener's own idle timer (OpenSSL 3.5
//   gives a server no way to offer --idle-timeout: see listener.cpp), and the time the peer's
//   last STREAM frame did, and notices retransmitted STREAM frames either way, for the close
//   that ends a transfer (TransferPolicy::Settings::quiet).
// - At -vvv it decodes every datagram, packet and frame with SSL_trace into TraceEvents.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "events.hpp"

namespace quicc {

// Per connection; attached with attach_wire_state, read by the connection's owner.
struct WireState {
  std::atomic<bool> close_frame_packetized{false};
  std::atomic<bool> close_frame_received{false};  // the peer's CONNECTION_CLOSE
  std::atomic<bool> reset_frame_packetized{false};  // a RESET_STREAM of ours
  std::atomic<bool> handshake_done_received{false};  // the server confirmed the handshake
  // A server's HANDSHAKE_DONE has been packetized, and an ACK from the peer came after it.
  std::atomic<bool> handshake_done_sent{false};
  std::atomic<bool> ack_after_handshake_done{false};
  // An ack-eliciting frame arrived after the last ACK frame we packetized.
  std::atomic<bool> received_unacked{false};
  std::atomic<int64_t> last_datagram_in_ns{0};  // steady_clock, since its epoch; 0: none yet
  // When a STREAM frame, or a probe (a PING in a 1-RTT packet), of the peer's last arrived
  // (steady_clock ns; 0: none yet): how long the peer has been quiet, for a close that lets it
  // see our ACK first (TransferPolicy).
  std::atomic<int64_t> last_peer_data_ns{0};
  // Since the peer last sent new stream data: the longest pause before a frame it sent again
  // (a repeated STREAM frame or a probe; ns, 0: none). The peer sends again when our ACK has
  // not come for its probe timeout, doubling that each time: how long its next try may take.
  std::atomic<int64_t> peer_resend_gap_ns{0};
  // A STREAM frame went or came again at an offset already seen on its stream (a
  // retransmission, or a duplicate), or the peer probed: this path loses packets.
  std::atomic<bool> loss_seen{false};
  bool receiving_1rtt = false;  // the packet whose frames the callback sees now (its thread's)

  // The code of the RESET_STREAM the peer sent for `stream`, if one arrived. OpenSSL forgets
  // it once the connection closes: a stream then reads "connection closed", whatever came
  // before, and a reset followed at once by a close would lose its code.
  std::optional<uint64_t> peer_reset_code(uint64_t stream) const;
  void peer_reset(uint64_t stream, uint64_t code);
  // A STREAM frame at `offset` of `stream`, sent or received: true if the stream already had a
  // frame at that offset or beyond that way.
  bool stream_frame_repeats(bool sent, uint64_t stream, uint64_t offset);

 private:
  mutable std::mutex mutex_;  // OpenSSL's threads call back; the owner reads
  std::map<uint64_t, uint64_t> peer_resets_;
  std::map<uint64_t, uint64_t> highest_offset_[2];  // per stream: [0] received, [1] sent
};

// Installs the callback on `ctx`; `trace` (may be null) receives the -vvv message trace and
// must outlive the context.
void install_wire_callback(SSL_CTX* ctx, Emitter* trace);

// A connection a listener accepted: OpenSSL 3.5 gives the context's callback to the TLS layer
// of incoming connections but not to their QUIC layer (create_qc_from_incoming_conn), so it is
// set on each one once accepted (frames before that go unseen).
void install_wire_callback(SSL* conn, Emitter* trace);

// Connections whose state should be tracked; before that, the callback ignores them.
void attach_wire_state(SSL* conn, WireState* state);
// Before the connection is freed: no callback touches the state once this returns.
void detach_wire_state(SSL* conn);

// OpenSSL's qlog has no API: it reads QLOGDIR from the environment when a connection or
// listener is created. Sets it (when `dir` is not empty) for the objects created next.
void enable_qlog(const std::string& dir);

}  // namespace quicc
