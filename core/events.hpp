// Typed events the engine reports while it runs. The engine only emits; how events are shown
// (text, JSON, verbosity) is decided by the EventSink implementation in cli/.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "peer_certificate.hpp"
#include "status.hpp"

namespace quicc {

// Why one turn of the event loop woke up; a bit set, as several can hold at once.
enum WakeReason : unsigned {
  wake_none = 0,
  wake_timeout = 1u << 0,
  wake_net_readable = 1u << 1,
  wake_net_writable = 1u << 2,
  wake_input = 1u << 3,
  wake_output = 1u << 4,
  wake_signal = 1u << 5,
};

struct ResolvedEvent {
  std::string host;
  std::vector<std::string> addresses;
};

struct SocketEvent {
  std::string local;
  std::string peer;  // empty for a listener
};

struct ListeningEvent {
  std::string local;
};

struct CertificateEvent {
  std::string fingerprint_sha256;  // AB:CD:... as `openssl x509 -fingerprint -sha256` prints it
  bool ephemeral = false;
};

struct HandshakeStartEvent {
  std::string peer;
  unsigned attempt = 1;   // which of the resolved addresses this is (client)
  unsigned attempts = 1;  // of how many
};

struct HandshakeDoneEvent {
  std::string alpn;
  std::string cipher;
  std::string group;
  std::string peer_subject;
  std::string peer_issuer;
  std::string peer_not_after;
  std::string verify_result;
  bool resumed = false;
  std::optional<uint64_t> rtt_us;
  uint64_t handshake_us = 0;  // from the first packet to handshake completion
  std::string tls_version;      // "TLSv1.3"
  bool session_offered = false;  // a client offered a session to resume (--session-in)
};

// The certificate the peer presented: after a handshake that completed, and after one whose
// verification failed (what a user needs to decide whether to trust it).
struct PeerCertificateEvent {
  PeerCertificate certificate;
};

// A TLS session ticket arrived (a client's; TLS 1.3 tickets come after the handshake).
struct SessionTicketEvent {
  std::string saved_to;  // --session-out, when it was written there
};

// Something the user should know that is not an error (e.g. --insecure).
struct WarningEvent {
  std::string text;
};

// We requested a TLS key update (QUIC key phase change).
struct KeyUpdateEvent {
  uint64_t after_bytes = 0;
};

struct ConnectionAcceptedEvent {
  uint64_t index = 0;  // 1 for the listener's first connection
  std::string peer;    // the client's address, "" if OpenSSL did not say (see peer_address.hpp)
};

struct TickEvent {
  unsigned wake = wake_none;
  std::optional<int64_t> next_timeout_us;  // empty: infinite
  bool net_read_desired = false;
  bool net_write_desired = false;
  uint64_t bytes_in = 0;   // from the peer to the local output, this turn
  uint64_t bytes_out = 0;  // from the local input to the peer, this turn
};

enum class StreamChange { opened, accepted, fin_sent, fin_received, reset_sent, reset_received };

struct StreamEvent {
  uint64_t stream_id = 0;
  StreamChange change = StreamChange::opened;
  std::optional<uint64_t> error_code;
};

// A response to a --get request arrived whole (FIN) and was saved.
struct ResponseEvent {
  std::string path;    // the request's path
  uint64_t stream_id = 0;
  uint64_t bytes = 0;
  uint64_t took_us = 0;  // from the request's stream opening to the response's FIN
  std::string saved_to;  // file name, or "-" for the output
};

// Pipe mode, a stream the peer opened beyond the pipe's (--peer-streams).
enum class PeerStreamChange {
  rejected,  // reset and stopped; `code` is ours
  text,      // accepted: one line of its bytes (`text`, as the peer sent them)
  saving,    // accepted: its bytes go to the file `text`
  ended,     // accepted: its end; `code` is the peer's reset code (none: a FIN); `text`
             // the file it was saved to, if any
};

struct PeerStreamEvent {
  uint64_t stream_id = 0;
  PeerStreamChange change = PeerStreamChange::text;
  std::string text;
  std::optional<uint64_t> code;
  uint64_t bytes = 0;  // ended: how many it carried
};

// The local input reached end-of-file (what makes us send FIN by default).
struct InputClosedEvent {};

// The first byte of the peer's data arrived: on the pipe's receiving stream, or on a --get
// request's stream (once per request). The run's time to first byte is the first of these.
struct FirstByteEvent {
  uint64_t stream_id = 0;
};

// SIGUSR1 (as dd): where the pipe stands.
struct StatusEvent {
  uint64_t bytes_in = 0;   // received from the peer
  uint64_t bytes_out = 0;  // sent to the peer
  std::chrono::microseconds elapsed{0};  // since the pipe began
  unsigned streams = 0;                  // streams open in either direction
};

// One decoded TLS/QUIC message (datagram, packet header, frame), from SSL_trace, at -vvv.
struct TraceEvent {
  bool sent = false;
  std::string text;
};

struct ShutdownEvent {
  bool complete = false;
};

struct CloseEvent {
  bool local = false;      // we closed (true) or the peer did
  bool transport = false;  // transport error code (true) or application code
  uint64_t error_code = 0;
  uint64_t frame_type = 0;
  std::string reason;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t bytes_unacked = 0;  // sent but not acknowledged when the connection closed
  // The closing (or draining) period: "waited" (to its end), "skipped" (left once our
  // CONNECTION_CLOSE was out, or at once after the peer's), "" (none: idle timeout or
  // network failure).
  std::string closing_period;
};

// A service listener's stream that reached its FIN (--sink: what it received).
struct StreamReportEvent {
  uint64_t stream_id = 0;
  uint64_t bytes = 0;
  std::chrono::microseconds duration{0};  // from the stream's acceptance to its FIN
};

struct ErrorEvent {
  Outcome outcome;
};

// Where a pipe's transfer stands, every 200 ms while it runs (Config::progress): what the
// progress meter on stderr is drawn from.
struct ProgressEvent {
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  std::chrono::microseconds elapsed{0};  // since the pipe began
};

// A perf client's goodput (Config::perf_client): every second while it runs, for that second,
// and once at its end (`final`) for the whole run. Upload counts the bytes handed to OpenSSL
// after each request's 8-byte header, download the response bytes read.
struct PerfEvent {
  bool final = false;
  std::chrono::microseconds from{0};  // since the requests began
  std::chrono::microseconds to{0};
  uint64_t bytes_up = 0;  // within [from, to)
  uint64_t bytes_down = 0;
  uint64_t requests_done = 0;  // whole run so far
  uint64_t streams = 0;        // at once
};

// A terminal session's messages to the person at it (on stderr at every verbosity): the
// connected banner, the peer's FIN, reset or close, `~?`'s help, what `~i` and `~l` show.
struct NoteEvent {
  std::string text;
};

// An escape command typed at the terminal (commands.hpp), as the driver carries it out.
struct CommandEvent {
  char letter = '?';
  std::string text;  // command_text()
};

using EventData =
    std::variant<ResolvedEvent, SocketEvent, ListeningEvent, CertificateEvent, HandshakeStartEvent,
                 HandshakeDoneEvent, ConnectionAcceptedEvent, TickEvent, StreamEvent,
                 InputClosedEvent, TraceEvent, ShutdownEvent, CloseEvent, ErrorEvent,
                 WarningEvent, KeyUpdateEvent, ResponseEvent, PeerStreamEvent,
                 StreamReportEvent, PeerCertificateEvent, SessionTicketEvent, FirstByteEvent, StatusEvent,
                 NoteEvent, CommandEvent, ProgressEvent, PerfEvent>;

struct Event {
  std::chrono::microseconds since_start{0};
  EventData data;
  // The listener's connection number (ConnectionAcceptedEvent::index) for events about one of
  // several connections; empty for the run's own events and for a client.
  std::optional<uint64_t> connection;
};

const char* stream_change_name(StreamChange c);
const char* peer_stream_change_name(PeerStreamChange c);

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(const Event& event) = 0;
  // Ticks and traces are frequent; a sink that does not show them lets the engine skip them.
  virtual bool wants_ticks() const { return false; }
  virtual bool wants_trace() const { return false; }
};

// Stamps events with the time since the run started and hands them to the sink, one at a time
// (the blocking driver emits from several threads). A service listener gives each connection
// an Emitter of its own that also stamps the connection's number, so that everything said
// about that connection (streams, warnings, its close) names it.
class Emitter {
 public:
  explicit Emitter(EventSink& sink) : sink_(sink), start_(std::chrono::steady_clock::now()) {}
  // Emits through `parent` (its sink, clock and lock), stamped with `connection`.
  Emitter(Emitter& parent, uint64_t connection)
      : sink_(parent.sink_), start_(parent.start_), parent_(&parent), connection_(connection) {}

  void emit(EventData data) {
    if (parent_) {
      parent_->emit_stamped(std::move(data), connection_);
      return;
    }
    emit_stamped(std::move(data), std::nullopt);
  }
  bool wants_ticks() const { return sink_.wants_ticks(); }
  bool wants_trace() const { return sink_.wants_trace(); }

 private:
  void emit_stamped(EventData data, std::optional<uint64_t> connection) {
    auto since = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start_);
    std::lock_guard lock(mutex_);
    sink_.on_event(Event{since, std::move(data), connection});
  }

  EventSink& sink_;
  std::chrono::steady_clock::time_point start_;
  Emitter* parent_ = nullptr;
  std::optional<uint64_t> connection_;
  std::mutex mutex_;
};

}  // namespace quicc
