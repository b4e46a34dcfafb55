// Everything the engine needs to run, already validated. cli/ fills it from the command line
// (cli/config_builder.cpp is the one place that does); core/ never sees raw options.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "endpoint.hpp"
#include "interrupts.hpp"
#include "status.hpp"

namespace quicc {

// Which way the engine waits for OpenSSL's QUIC event loop (see ARCHITECTURE.md).
enum class Driver {
  nonblocking,  // one thread, poll() over the UDP socket, stdin and stdout
  blocking,     // OpenSSL blocking mode; a reader and a writer thread share the connection
};

enum class Role { client, listener };

// What a listener does with its connections' streams.
enum class Service {
  pipe,    // stdin/stdout over one stream of one connection (nc -l)
  echo,    // every stream echoed back
  serve,   // HTTP/0.9 files from serve_dir (GET /PATH)
  sink,    // every stream read to its end and counted
  source,  // source_size bytes, then FIN, on every stream the client opens
  perf,    // draft-banks-quic-performance: the 8-byte size N, the upload to FIN, then N bytes
};

// Pipe mode: streams the peer opens beyond the one the pipe uses.
enum class PeerStreams {
  ignore,  // left unread, with a warning
  accept,  // read; shown on stderr, or saved to output_dir as stream-ID
  reject,  // reset and STOP_SENDING with peer_stream_reject_code
};

// What local input EOF does to the stream (and so to the connection).
enum class EofPolicy {
  fin,     // send FIN, keep reading until the peer's FIN (ncat's half-close); the default
  close,   // send FIN and close the connection once our data is acknowledged
  ignore,  // send nothing; the connection stays open until the peer closes it
  reset,   // reset the stream with eof_reset_code, then close the connection
};

// How we close the connection once the transfer is over (SSL_shutdown_ex).
struct ShutdownPolicy {
  bool rapid = false;            // SSL_SHUTDOWN_FLAG_RAPID: one CONNECTION_CLOSE, no waiting
  // --shutdown full: stay in the closing period (about 3 PTOs, RFC 9000 10.2) until OpenSSL
  // ends it, answering late packets with the CONNECTION_CLOSE again. Otherwise a client's
  // close is over once its CONNECTION_CLOSE has left: the process ends and its socket with
  // it, which RFC 9000 10.2 allows ("Endpoints that have some alternative means to ensure
  // that late-arriving packets do not induce a response, such as those that are able to close
  // the UDP socket, MAY end these states earlier"). A listener always stays (config_builder
  // says why).
  bool closing_period = false;
  bool no_stream_flush = false;  // SSL_SHUTDOWN_FLAG_NO_STREAM_FLUSH: don't wait for ACKs
  bool wait_peer = false;        // SSL_SHUTDOWN_FLAG_WAIT_PEER: let the peer close first
  uint64_t error_code = 0;       // application error code of our CONNECTION_CLOSE
  std::string reason;            // its reason phrase
};

// Application error codes quicc itself closes with (documented in --help).
inline constexpr uint64_t close_code_interrupted = 0x1;    // SIGINT / SIGTERM
inline constexpr uint64_t close_code_output_closed = 0x2;  // our stdout went away
inline constexpr uint64_t close_code_timeout = 0x3;        // --timeout / --idle-exit / idle
// A listener refusing a client: --max-conns connections are open already. (0x4 is a stream
// reset code, below.)
inline constexpr uint64_t close_code_refused = 0x5;
// Stream reset code: both sides opened a pipe stream at once; this half carries nothing, the
// data comes on the sender's own stream (see core/pipe_streams.hpp).
inline constexpr uint64_t stream_code_crossed = 0x4;
// Stream reset code of --serve: the requested file is missing, or refused (outside the served
// directory, not a regular file, not a GET request).
inline constexpr uint64_t stream_code_refused = 0x10;
// A stream reset whose code is unknown: OpenSSL reports a reset that arrived with the
// connection's close only as "stream reset" (openssl#21762), without its code.
inline constexpr uint64_t stream_code_unknown = UINT64_MAX;

// Scripted input (--send, --send-file): one part of what is sent instead of input_fd.
struct InputPart {
  std::string bytes;  // sent as they are
  // Or, when >= 0: read to its end (a --send-file, opened by the caller, who owns it; `file`
  // is its name).
  int fd = -1;
  std::string file;
};

struct Config {
  Role role = Role::client;
  Endpoint endpoint;  // client: where to connect; listener: where to bind

  Driver driver = Driver::nonblocking;

  // ALPN protocols offered (client) or accepted (listener), in preference order.
  std::vector<std::string> alpn = {"quicc"};

  // Where to dial instead of endpoint (host and port; port 0 = endpoint's); SNI and
  // verification still use endpoint.host.
  std::optional<Endpoint> connect_to;
  int address_family = 0;  // AF_INET / AF_INET6 (-4 / -6), 0: either

  // SNI: endpoint.host unless sni is set; none for IP literals or with no_sni.
  std::string sni;
  bool no_sni = false;

  // Peer verification. The client verifies unless pin_sha256 replaces it or insecure is set;
  // a listener verifies clients only with require_client_cert.
  std::string cafile;      // empty (and no capath): the system trust store
  std::string capath;
  std::string pin_sha256;  // 64 lowercase hex digits, or empty
  bool insecure = false;
  bool require_client_cert = false;

  // Our certificate: the listener's (ephemeral when empty), or a client certificate.
  std::string cert_file;
  std::string key_file;

  // TLS 1.3 ciphersuites and key exchange groups (OpenSSL syntax); empty: OpenSSL's defaults.
  std::string ciphersuites;
  std::string groups;

  // Secrets and traces: NSS key log file, and OpenSSL's qlog directory (both empty: off).
  std::string keylog_file;
  std::string qlog_dir;

  // QUIC idle timeout we offer (SSL_VALUE_QUIC_IDLE_TIMEOUT), when set; 0 disables it.
  std::optional<std::chrono::milliseconds> idle_timeout;

  // Resumption: a PEM session to offer, and a file to save the newest ticket to.
  std::string session_in;
  std::string session_out;

  // Request a key update once this many bytes have been sent (0: right after the handshake).
  std::optional<uint64_t> key_update_after;

  // Client: --count connections in all, at most --parallel at once, one every --interval
  // (many.hpp); count 1 is a single run.
  uint64_t count = 1;
  unsigned parallel = 1;
  std::chrono::milliseconds interval{0};
  // Client: --retry attempts more after a failure before anything was exchanged (engine.hpp),
  // --retry-delay apart.
  unsigned retry = 0;
  std::chrono::milliseconds retry_delay{1000};

  // Listener: what it does with its streams, and whether it serves connections concurrently
  // until interrupted (--keep-open) or exits after its first one.
  Service service = Service::pipe;
  std::string serve_dir;     // Service::serve
  uint64_t source_size = 0;  // Service::source
  bool keep_open = false;
  // At most this many connections at once (--max-conns); one more is refused
  // (close_code_refused).
  uint64_t max_conns = 100;

  // Client requests (--get): each path is asked for with "GET /PATH\r\n" and FIN on a
  // bidirectional stream of its own; empty: pipe mode. At most max_streams in flight (0: as
  // many as the peer allows). Responses go to output_dir/<last component of the path>, or to
  // output_file, or (one request) to output_fd.
  std::vector<std::string> requests;

  uint64_t max_streams = 0;
  std::string output_dir;
  // A perf client (--perf without --listen; draft-banks-quic-performance, perf_framing.hpp):
  // `streams` request streams at once, each sending the 8-byte size `download`, then `upload`
  // bytes, then FIN, and counting exactly `download` bytes back up to the server's FIN. With a
  // duration, each stream makes such requests one after another until it has passed (none
  // starts later); without, one each. Goodput each way is reported every second (PerfEvent).
  struct PerfClient {
    uint64_t upload = 0;
    uint64_t download = 0;
    uint64_t streams = 1;
    std::chrono::milliseconds duration{0};
  };
  std::optional<PerfClient> perf_client;
  std::string output_file;

  // Smoke tests (client). check: handshake only, then close (check.hpp); warn_days: a run that
  // succeeded ends with Status::cert_expiring when the peer's certificate expires within that
  // many days.
  bool check = false;
  std::optional<int64_t> warn_days;

  PeerStreams peer_streams = PeerStreams::ignore;
  uint64_t peer_stream_reject_code = 0;

  // Handshake deadline, counted from the first packet sent (client) or accepted (listener).
  std::chrono::milliseconds connect_timeout{10'000};
  // Whole-run deadline, and the longest time without data in either direction (0: none).
  std::chrono::milliseconds timeout{0};
  std::chrono::milliseconds idle_exit{0};

  EofPolicy on_eof = EofPolicy::fin;
  // --crlf: the pipe's input goes with CR LF line endings (LocalInput::send_crlf).
  bool crlf = false;
  // A terminal session (--interactive; by default when stdin is a terminal): input_fd is read
  // line by line for escape commands (terminal.hpp, console.hpp), and notes go to stderr.
  bool interactive = false;
  // The progress meter (--progress; by default when stderr is a terminal): a pipe emits a
  // ProgressEvent every progress_interval while its transfer runs.
  bool progress = false;
  uint64_t eof_reset_code = 0;
  ShutdownPolicy shutdown;

  // Stream write modes: SSL_MODE_ENABLE_PARTIAL_WRITE (else all-or-nothing) and
  // SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER (a retried write may come from another address).
  bool partial_write = false;
  bool moving_buffer = false;

  // SIGINT, SIGTERM and SIGHUP as the application counts them (see interrupts.hpp); none by
  // default. The first interrupt closes gracefully with close_code_interrupted, bounded; the
  // second rapidly.
  InterruptSource interrupts;

  // The data endpoints of the pipe; -1: closed (input at EOF; output gone, like a reader that
  // left). They are never switched to O_NONBLOCK (see local_io.hpp).
  int input_fd = 0;
  int output_fd = 1;

  // Scripted checks (pipe mode). `send` non-empty: the input is these parts in order, then
  // EOF (input_fd is not read). `expect`: ECMAScript patterns that must all match the data
  // received (core/expect.hpp), or the run ends with Status::expect_failed; once all match
  // (and our input is all sent and acknowledged), reading stops and the run ends as at the
  // peer's FIN, unless `expect_close` (read on to the peer's FIN or close, then judge).
  std::vector<InputPart> send;
  std::vector<std::string> expect;
  bool expect_close = false;
};

}  // namespace quicc
