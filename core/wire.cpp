#include "wire.hpp"

#include <openssl/bio.h>

#include <cstdlib>
#include <mutex>
#include <unordered_map>

namespace quicc {

namespace {

// QUIC frame types of CONNECTION_CLOSE (RFC 9000, 19.19): transport and application.
constexpr unsigned char frame_conn_close_transport = 0x1c;
constexpr unsigned char frame_conn_close_app = 0x1d;
constexpr unsigned char frame_ping = 0x01;
constexpr unsigned char frame_ack = 0x02;
constexpr unsigned char frame_ack_ecn = 0x03;
constexpr unsigned char frame_reset_stream = 0x04;
constexpr unsigned char frame_handshake_done = 0x1e;
// STREAM frames are 0x08 to 0x0f; bit 0x04 says an offset follows the stream ID.
constexpr unsigned char frame_stream_first = 0x08;
constexpr unsigned char frame_stream_last = 0x0f;
constexpr unsigned char frame_stream_has_offset = 0x04;

bool is_ack(const unsigned char* frame) { return frame[0] == frame_ack || frame[0] == frame_ack_ecn; }
bool is_conn_close(const unsigned char* frame) {
  return frame[0] == frame_conn_close_transport || frame[0] == frame_conn_close_app;
}

// A QUIC variable-length integer (RFC 9000, 16) at `p`, within `end`; advances `p`.
std::optional<uint64_t> read_varint(const unsigned char*& p, const unsigned char* end) {
  if (p >= end) return std::nullopt;
  size_t length = size_t{1} << (p[0] >> 6);
  if (static_cast<size_t>(end - p) < length) return std::nullopt;
  uint64_t v = p[0] & 0x3f;
  for (size_t i = 1; i < length; ++i) v = (v << 8) | p[i];
  p += length;
  return v;
}

// RESET_STREAM (RFC 9000, 19.4): type, stream ID, application error code, final size.
void note_peer_reset(WireState& state, const unsigned char* frame, size_t len) {
  const unsigned char* p = frame + 1;
  const unsigned char* end = frame + len;
  auto stream = read_varint(p, end);
  auto code = read_varint(p, end);
  if (stream && code) state.peer_reset(*stream, *code);
}

// STREAM (RFC 9000, 19.8): type, stream ID, offset if the type says so. Notes a frame that
// repeats an offset of its stream as a sign of loss; true for such a frame.
bool note_stream_frame(WireState& state, bool sent, const unsigned char* frame, size_t len) {
  const unsigned char* p = frame + 1;
  const unsigned char* end = frame + len;
  auto stream = read_varint(p, end);
  if (!stream) return false;
  uint64_t offset = 0;
  if (frame[0] & frame_stream_has_offset) {
    auto o = read_varint(p, end);
    if (!o) return false;
    offset = *o;
  }
  if (!state.stream_frame_repeats(sent, *stream, offset)) return false;
  state.loss_seen = true;
  return true;
}

// Which connection's callbacks update which state. Not the SSL object's ex_data: a listener's
// connections share one engine, and whichever thread ticks it (another connection's, under the
// blocking driver) may run a new connection's callback while the accepting thread attaches its
// state, and SSL_set_ex_data may reallocate what SSL_get_ex_data reads (found by TSan). The
// callback holds the lock while it updates a state, so that once detach_wire_state returns,
// no callback touches that state again.
struct Registry {
  std::mutex mutex;
  std::unordered_map<const SSL*, WireState*> states;
};

Registry& registry() {
  static Registry r;
  return r;
}

void emit_trace(Emitter& emitter, int write_p, int version, int content_type, const void* buf,
                size_t len, SSL* ssl) {
  BIO* mem = BIO_new(BIO_s_mem());
  if (!mem) return;
  SSL_trace(write_p, version, content_type, buf, len, ssl, mem);
  char* data = nullptr;
  long size = BIO_get_mem_data(mem, &data);
  if (size > 0) {
    std::string text(data, static_cast<size_t>(size));
    while (!text.empty() && text.back() == '\n') text.pop_back();
    // SSL_trace does not print a 1-RTT packet's key phase, which is what shows a key update
    // on the wire. The callback sees the header without header protection, so the bit is
    // there: short header (first bit 0), key phase = bit 0x04 (RFC 9000, 17.3.1).
    const auto* bytes = static_cast<const unsigned char*>(buf);
    if (content_type == SSL3_RT_QUIC_PACKET && len > 0 && !(bytes[0] & 0x80))
      text += "\n  Key Phase: " + std::to_string((bytes[0] >> 2) & 1);
    if (!text.empty()) emitter.emit(TraceEvent{write_p != 0, std::move(text)});
  }
  BIO_free(mem);
}

void wire_callback(int write_p, int version, int content_type, const void* buf, size_t len,
                   SSL* ssl, void* arg) {
  // A call racing the callback's installation may see it before its SSL (accept_connection).
  if (!ssl) return;
  std::unique_lock lock(registry().mutex);
  auto found = registry().states.find(ssl);
  if (found != registry().states.end()) {
    WireState* state = found->second;
    const auto* bytes = static_cast<const unsigned char*>(buf);
    bool frame = (content_type == SSL3_RT_QUIC_FRAME_FULL ||
                  content_type == SSL3_RT_QUIC_FRAME_HEADER) && len > 0;
    if (!write_p && content_type == SSL3_RT_QUIC_PACKET && len > 0)
      state->receiving_1rtt = !(bytes[0] & 0x80);  // a short header; its frames come next
    bool stream_frame = frame && bytes[0] >= frame_stream_first && bytes[0] <= frame_stream_last;
    bool repeat = stream_frame && note_stream_frame(*state, write_p != 0, bytes, len);
    // A PING in a 1-RTT packet is the peer's probe (RFC 9002, 6.2.4): it has had no ACK from
    // us in time, for data we may have acknowledged already, and it wants one.
    bool probe = frame && !write_p && bytes[0] == frame_ping && state->receiving_1rtt;
    if (probe) state->loss_seen = true;
    if ((stream_frame && !write_p) || probe) {
      int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
      int64_t last = state->last_peer_data_ns;
      if (!repeat && !probe) state->peer_resend_gap_ns = 0;
      else if (last != 0 && now - last > state->peer_resend_gap_ns)
        state->peer_resend_gap_ns = now - last;
      state->last_peer_data_ns = now;
    }
    if (frame && write_p) {
      if (is_conn_close(bytes)) state->close_frame_packetized = true;
      if (bytes[0] == frame_reset_stream) state->reset_frame_packetized = true;
      if (bytes[0] == frame_handshake_done) state->handshake_done_sent = true;
      if (is_ack(bytes)) state->received_unacked = false;
    } else if (frame && is_conn_close(bytes)) {
      state->close_frame_received = true;
    } else if (frame && is_ack(bytes)) {
      if (state->handshake_done_sent) state->ack_after_handshake_done = true;
    } else if (frame && !is_ack(bytes)) {
      // Every frame but ACK, PADDING and CONNECTION_CLOSE elicits an ACK (RFC 9002, 2).
      state->received_unacked = true;
      if (bytes[0] == frame_handshake_done) state->handshake_done_received = true;
      if (bytes[0] == frame_reset_stream) note_peer_reset(*state, bytes, len);
    }
    if (!write_p && content_type == SSL3_RT_QUIC_DATAGRAM)
      state->last_datagram_in_ns =
          std::chrono::steady_clock::now().time_since_epoch().count();
  }
  lock.unlock();
  if (arg) emit_trace(*static_cast<Emitter*>(arg), write_p, version, content_type, buf, len, ssl);
}

}  // namespace

std::optional<uint64_t> WireState::peer_reset_code(uint64_t stream) const {
  std::lock_guard lock(mutex_);
  auto it = peer_resets_.find(stream);
  if (it == peer_resets_.end()) return std::nullopt;
  return it->second;
}

void WireState::peer_reset(uint64_t stream, uint64_t code) {
  std::lock_guard lock(mutex_);
  peer_resets_.emplace(stream, code);
}

bool WireState::stream_frame_repeats(bool sent, uint64_t stream, uint64_t offset) {
  std::lock_guard lock(mutex_);
  auto& highest = highest_offset_[sent ? 1 : 0];
  // Bounded: a run of many short streams (--perf --duration) forgets the oldest at times; a
  // repeat missed then costs only a shorter wait at the close.
  if (highest.size() >= 1024 && !highest.count(stream)) highest.clear();
  auto [it, first] = highest.try_emplace(stream, offset);
  if (first) return false;
  if (offset <= it->second) return true;
  it->second = offset;
  return false;
}

void install_wire_callback(SSL_CTX* ctx, Emitter* trace) {
  SSL_CTX_set_msg_callback(ctx, wire_callback);
  SSL_CTX_set_msg_callback_arg(ctx, trace);
}

void install_wire_callback(SSL* conn, Emitter* trace) {
  // The argument first: a thread that sees the callback then sees its argument too.
  SSL_set_msg_callback_arg(conn, trace);
  SSL_set_msg_callback(conn, wire_callback);
}

void attach_wire_state(SSL* conn, WireState* state) {
  std::lock_guard lock(registry().mutex);
  registry().states[conn] = state;
}

void detach_wire_state(SSL* conn) {
  std::lock_guard lock(registry().mutex);
  registry().states.erase(conn);
}

void enable_qlog(const std::string& dir) {
  if (!dir.empty()) ::setenv("QLOGDIR", dir.c_str(), 1);
}

}  // namespace quicc
