// One QUIC connection: its SSL object, the streams it holds (ours and the peer's), its close,
// and the one place its end is reported. Both drivers and both roles use it; whatever ends a
// connection, its CloseEvent is emitted exactly once, here.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "close_info.hpp"
#include "events.hpp"
#include "ssl_ptr.hpp"
#include "status.hpp"
#include "transfer_policy.hpp"
#include "wire.hpp"

namespace quicc {

// Byte counts of a connection, for the close report.
struct Transferred {
  uint64_t in = 0;
  uint64_t out = 0;
  uint64_t unacked = 0;
};

// Closes `conn` rapidly, without waiting, with `code` and `reason`, sending the CONNECTION_CLOSE
// on its way (Connection::abort; a listener's refused connections, which have no Connection).
void close_at_once(SSL* conn, uint64_t code = 0, const char* reason = nullptr);

class Connection {
 public:
  // `accepted`: a connection a listener accepted (we are its server). Known from who made it:
  // SSL_is_server() reads TLS state that OpenSSL's handshake writes from other threads.
  Connection(SslPtr conn, Emitter& emitter, bool accepted);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  SSL* ssl() const { return conn_.get(); }
  // The peer's address as the log shows it ("" if unknown), for a terminal's banner.
  const std::string& peer() const { return peer_; }
  void set_peer(std::string peer) { peer_ = std::move(peer); }
  Emitter& emitter() const { return emitter_; }

  // Streams. The connection owns every stream it hands out; they live until the connection
  // is destroyed or forget_stream() frees one (freeing sends STOP_SENDING for an unfinished
  // receiving side).
  // Streams the peer opened since the last call, without waiting (emits their "accepted").
  std::list<SSL*> accept_streams();
  // A stream the blocking driver accepted itself (emits "accepted").
  SSL* adopt_accepted(SslPtr stream);
  // Opens a bidirectional stream of ours, or a unidirectional one (emits "opened"). Null when
  // the peer's stream limit is reached (try again later) or on failure (`error` set).
  SSL* open_stream(bool wait_at_limit, std::string& error, bool uni = false);
  void forget_stream(SSL* stream);
  // Streams held that are still open in either direction (SIGUSR1's status line).
  unsigned open_stream_count();
  // Resets the sending side of every stream that still has one (before a close that does not
  // wait for stream data, see TransferPolicy's clearing_). True if any was reset.
  bool reset_streams(uint64_t code);

  // State.
  // The connection's close, its codes named by the protocol the handshake agreed on.
  std::optional<CloseInfo> close_info() const;
  bool closed() const { return close_info().has_value(); }
  // The code of the peer's RESET_STREAM for `stream`, also once the connection has closed.
  std::optional<uint64_t> peer_reset_code(SSL* stream) const {
    return wire_->peer_reset_code(SSL_get_stream_id(stream));
  }
  // After a close of ours: its CONNECTION_CLOSE has been packetized and nothing is left
  // queued for the socket (or there is none to send: the peer closed first, the connection
  // idled out or the network failed).
  bool close_frame_sent() const;
  // A CONNECTION_CLOSE has gone or come: what is left is a closing or draining period, the
  // peer gone or going. Safe from any thread (a listener counts its open connections with it
  // while their own threads drive them).
  bool closing() const { return wire_->close_frame_packetized || wire_->close_frame_received; }
  // The handshake is confirmed: a server's at once, a client's once HANDSHAKE_DONE arrived.
  bool handshake_confirmed() const;
  // A key update of ours cannot reach the peer before its handshake is confirmed. OpenSSL
  // lets a server update its keys as soon as its handshake completes, and the packet that
  // carries HANDSHAKE_DONE may then already use the new keys: the client sees a key update
  // before its handshake is confirmed and closes with KEY_UPDATE_ERROR ("RX key update again
  // too soon"). So a server waits for an ACK from the peer after its HANDSHAKE_DONE left;
  // a client, for HANDSHAKE_DONE (RFC 9001, 6.1).
  bool key_update_safe() const;
  // A RESET_STREAM of ours has been packetized and nothing is left queued for the socket.
  bool reset_frame_sent() const;
  // Everything ack-eliciting the peer sent has been acknowledged, and the ACK has left.
  bool peer_acked() const;
  // When a datagram last arrived (or the connection was made, if none has).
  Clock::time_point last_datagram_in() const;
  // When the peer's last STREAM frame or probe arrived (none yet: empty), and whether a STREAM
  // frame came or went again or the peer probed (this path loses packets). See WireState.
  std::optional<Clock::time_point> last_peer_data_in() const;
  bool loss_seen() const;
  // WireState::peer_resend_gap_ns.
  Clock::duration peer_resend_gap() const;
  uint64_t handshake_rtt_us() const;

  // One step of the close `request` asks for (SSL_shutdown_ex, never blocking: the driver
  // waits, so that interrupts and deadlines still count). True once the close is complete:
  // once the closing period is over with request.linger, else as soon as the CONNECTION_CLOSE
  // has left (the peer's close came first: at once). A rapid request also sends the
  // CONNECTION_CLOSE on its way.
  bool close_step(const CloseRequest& request);
  // Closes at once (no waiting, no report): after a failure before any transfer, or to end a
  // connection that has gone quiet; with `code` and `reason` when the peer is to hear why.
  void abort(uint64_t code = 0, const char* reason = nullptr);

  // Emits HandshakeDoneEvent (and PeerCertificateEvent when the peer sent one); fails with
  // no_alpn when no protocol was agreed. `session_offered`: a client offered --session-in.
  Outcome report_handshake(Clock::time_point started, bool session_offered = false);
  // The agreed ALPN and the cipher's name, as report_handshake read them: asking OpenSSL
  // later races with the thread that handles the server's session tickets, which replace
  // the SSL's session, cipher included (ThreadSanitizer, the blocking driver's banner).
  std::string alpn() const {
    std::lock_guard lock(alpn_mutex_);
    return alpn_;
  }
  std::string cipher() const {
    std::lock_guard lock(alpn_mutex_);
    return cipher_;
  }
  // The peer's certificate, as report_handshake read it.
  const std::optional<PeerCertificate>& peer_certificate() const { return certificate_; }
  // Requests a TLS key update (emits KeyUpdateEvent); false while OpenSSL refuses (before the
  // handshake is confirmed).
  bool request_key_update(uint64_t after_bytes);

  // The connection's end, reported once: the CloseEvent from OpenSSL's close information
  // (nothing if the connection never closed, e.g. a handshake that failed before it began).
  void report_end(const Transferred& moved);
  bool end_reported() const { return end_reported_; }

  // A worker thread could not be stopped: never free what it may still use (the process is
  // about to end anyway).
  void leak();

 private:
  SslPtr conn_;
  Emitter& emitter_;
  bool accepted_;
  // Never replaced (closing() reads it from other threads); leak() leaks it.
  std::unique_ptr<WireState> wire_ = std::make_unique<WireState>();
  bool wire_leaked_ = false;
  std::list<SslPtr> streams_;
  std::mutex streams_mutex_;  // the blocking driver's threads add streams concurrently
  Clock::time_point created_ = Clock::now();
  bool end_reported_ = false;
  // CloseEvent::closing_period, as the last close_step saw it. Atomic: a service listener's
  // last close steps every connection while a connection's own thread may report its end.
  enum class ClosingPeriod : uint8_t { none, skipped, waited };
  std::atomic<ClosingPeriod> closing_period_{ClosingPeriod::none};
  std::optional<PeerCertificate> certificate_;
  // The agreed ALPN: written once by report_handshake, read by close_info from other threads.
  std::string alpn_;
  std::string cipher_;
  mutable std::mutex alpn_mutex_;  // alpn_ and cipher_
  std::string peer_;
};

// The SSL_shutdown_ex flags and arguments of a close request.
uint64_t shutdown_flags(const CloseRequest& request);

}  // namespace quicc
