#include "options.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <utility>
#include <vector>

#include "core/config.hpp"
#include "exit_codes.hpp"
#include "usage_hints.hpp"

namespace quicc::cli {

namespace {

constexpr Level essential = Level::essential;

// Roles (options.hpp): where an option applies, and why not elsewhere.
constexpr Roles any_run{};
constexpr Roles client_only(std::string_view why) { return {true, false, false, why}; }
constexpr Roles listener_only(std::string_view why) { return {false, true, true, why}; }
// A client and a pipe listener: a service listener has no input and ends no connection.
constexpr Roles not_service(std::string_view why) { return {true, true, false, why}; }
// Every run, but a listener only together with `option`.
constexpr Roles listener_with(std::string_view option) { return {true, true, true, "", option}; }

constexpr std::string_view only_client_verifies =
    "a listener verifies clients only with --require-client-cert, against --cafile/--capath";
constexpr std::string_view only_clients_request =
    "only a client makes requests";
constexpr std::string_view only_clients_measure =
    "a perf client measures; a perf server answers what it is asked for";
constexpr std::string_view clients_close =
    "its clients end their connections, and SIGINT closes the rest with code 0x1";

// Order within a category is the order help shows.
constexpr OptionSpec table[] = {
    {"-l,--listen", "[ADDR:]PORT", "", "Listen instead of connecting (like nc -l)",
     Category::listener, &Options::listen, any_run,
     "Listen for one QUIC connection instead of connecting (like nc -l); port 0 picks a free "
     "port; without ADDR, IPv6 and IPv4 ([::], dual-stack)",
     "",
     "quicc --listen 4433 > received",
     essential},
    {"--echo", "", "", "With --listen: echo every stream back",
     Category::listener, &Options::echo, listener_only("it needs --listen"),
     "With --listen: echo every stream back to its sender",
     "",
     "quicc --listen 127.0.0.1:4433 --echo --keep-open",
     essential},
    {"--serve", "DIR", "", "With --listen: serve DIR's files over HTTP/0.9",
     Category::listener, &Options::serve, listener_only("it needs --listen"),
     "With --listen: serve the files in DIR over HTTP/0.9 (GET /PATH on each stream, ALPN "
     "hq-interop unless --alpn); paths out of DIR are refused with a stream reset. A "
     "connection answering no request for --idle-timeout is closed (code 0x3)",
     "",
     "quicc --listen 4433 --serve /srv/www --keep-open"},
    {"--sink", "", "", "With --listen: read and count every stream",
     Category::listener, &Options::sink, listener_only("it needs --listen"),
     "With --listen: read every stream to its end and report its bytes and rate"},
    {"--source", "SIZE", "", "With --listen: send SIZE bytes on every stream",
     Category::listener, &Options::source, listener_only("it needs --listen"),
     "With --listen: send SIZE bytes, then FIN, on every stream the client opens (K, M, G "
     "suffixes)"},
    {"--perf", "", "", "QUIC perf client, or server with --listen",
     Category::listener, &Options::perf, any_run,
     "QUIC perf (draft-banks-quic-performance, ALPN perf unless --alpn). With --listen: a perf "
     "server: on each bidirectional stream, read the 8-byte big-endian size N and the upload "
     "up to the client's FIN, then send N bytes and FIN. Without: a perf client (--upload, "
     "--download, --streams, --duration) that prints goodput each way every second and for the "
     "whole run on stdout (--json: JSON lines); without --upload and --download it asks for "
     "--download 100M",
     "",
     "quicc --perf --download 100M --streams 4 host:4433"},
    {"--keep-open", "", "", "With --listen: serve many connections (ncat -k)",
     Category::listener, &Options::keep_open,
     listener_only("it makes a listener serve many connections"),
     "With --listen: serve connections concurrently until interrupted (like ncat -k); a pipe "
     "listener sends its input to every client connected at the time and writes what every "
     "client sends to its output. Without it the listener exits after its first connection",
     "",
     "",
     essential},
    {"--max-conns", "N", "100", "With --listen: at most N connections at once",
     Category::listener, &Options::max_conns, listener_only("it limits a listener's connections"),
     "With --listen: serve at most N connections at once, those in their handshake included "
     "(like ncat -m); a client arriving while N are open is refused: closed with code 0x5 (too "
     "many connections) once its handshake is done, and the listener logs a warning naming it"},
    {"--get", "PATH", "", "Request PATH over HTTP/0.9; repeatable",
     Category::requests, &Options::get, client_only(only_clients_request),
     "Request PATH over HTTP/0.9 (GET /PATH, then FIN) on a stream of its own; repeatable; "
     "ALPN hq-interop unless --alpn",
     "",
     "quicc --get /index.html --get /a.png --output-dir . host:4433",
     essential},
    {"--get-list", "FILE", "", "Request every path listed in FILE",
     Category::requests, &Options::get_list, client_only(only_clients_request),
     "Request every path in FILE, one per line, as --get does"},
    {"--max-streams", "K", "", "At most K requests in flight",
     Category::requests, &Options::max_streams, client_only(only_clients_request),
     "At most K requests in flight at once (default: as many as the peer allows)"},
    {"--upload", "SIZE", "0", "With --perf: bytes to send per request",
     Category::requests, &Options::upload, client_only(only_clients_measure),
     "With --perf: send SIZE bytes after each request's 8-byte header (K, M, G suffixes)"},
    {"--download", "SIZE", "0", "With --perf: bytes to ask for per request",
     Category::requests, &Options::download, client_only(only_clients_measure),
     "With --perf: ask for SIZE bytes on each request stream; each response must be exactly "
     "that long"},
    {"--streams", "K", "1", "With --perf: request streams at once",
     Category::requests, &Options::streams, client_only(only_clients_measure),
     "With --perf: K request streams at once"},
    {"--duration", "DURATION", "", "With --perf: keep requesting this long",
     Category::requests, &Options::duration, client_only(only_clients_measure),
     "With --perf: each stream makes request after request until DURATION has passed (none "
     "starts later; those under way finish); without it, one request per stream"},
    {"--output-dir", "DIR", "", "Save each response into DIR",
     Category::requests, &Options::output_dir, not_service("it serves streams, it saves none"),
     "Save each response to DIR, named by its path's last component"},
    {"-o,--output", "FILE", "", "Save the one response to FILE",
     Category::requests, &Options::output, client_only(only_clients_request),
     "Save the response of the one request to FILE (default: stdout)"},
    {"--peer-streams", "MODE", "ignore", "Peer's extra streams: accept, reject, ignore",
     Category::requests, &Options::peer_streams,
     not_service("it serves every stream its clients open"),
     "Pipe mode, streams the peer opens beyond the pipe's (unidirectional ones too): accept "
     "(show their data on stderr, escaped, or save it to --output-dir as stream-ID), "
     "reject[:CODE] (reset our half with CODE, default 0; STOP_SENDING, whose code OpenSSL 3.5 "
     "sets to 0), ignore (leave them unread, with a warning)",
     "accept reject ignore"},
    // Scripted checks.
    {"--send", "DATA", "", "Send DATA instead of stdin; repeatable",
     Category::scripted, &Options::send,
     not_service("it serves its clients' streams, it has no input"),
     "Send DATA instead of reading stdin, then end our side as at stdin EOF (--on-eof); "
     "escapes \\r \\n \\t \\\\ \\xNN; repeatable, and mixed with --send-file, sent in "
     "command-line order",
     "",
     "quicc --send 'GET /index.html\\r\\n' --expect '^<html' host:4433",
     essential},
    {"--send-file", "FILE", "", "Send FILE instead of stdin; repeatable",
     Category::scripted, &Options::send_file,
     not_service("it serves its clients' streams, it has no input"),
     "Send the contents of FILE instead of reading stdin; repeatable, and mixed with --send, "
     "sent in command-line order"},
    {"--expect", "REGEX", "", "Exit 16 unless the reply matches REGEX",
     Category::scripted, &Options::expect,
     not_service("it serves its clients' streams, it checks none"),
     "Exit 16 unless the data received matches REGEX (ECMAScript; ^ and $ match at line breaks "
     "too; no back-references; the first 1 MiB is searched); repeatable: all must match. "
     "Received data still goes to stdout. Once all have matched and our input is all sent and "
     "acknowledged, reading stops and the run ends as at the peer's FIN",
     "",
     "quicc --send ping --expect '^pong$' host:4433",
     essential},
    {"--expect-close", "", "", "With --expect: judge at the peer's FIN",
     Category::scripted, &Options::expect_close,
     not_service("it serves its clients' streams, it checks none"),
     "With --expect: read on to the peer's FIN or close, then judge, instead of stopping at "
     "the match"},
    {"--count", "N", "1", "Make N connections, report each and a summary",
     Category::scripted, &Options::count, client_only("only a client makes connections"),
     "Make N connections in one process, each a whole run (resolve, handshake, the same input, "
     "close) whose received data is discarded; report each as it ends (--json, --json-file, "
     "-w) and then the aggregate on stderr: successes, failures by exit class, and "
     "min/median/p90/p99/max of dns, connect, handshake, first byte and total times. The input "
     "(stdin, or --send and --send-file; at most 16 MiB) is read once. The exit code is 0 when "
     "every connection succeeded, else the lowest failing one (the failure met earliest in a "
     "connection's life), or the interrupt's",
     "",
     "quicc --count 100 --parallel 10 --send hi host:4433"},
    {"--parallel", "K", "1", "With --count: K connections at once",
     Category::scripted, &Options::parallel, client_only("only a client makes connections"),
     "With --count: at most K connections at once"},
    {"--interval", "DURATION", "0", "With --count: start one every DURATION",
     Category::scripted, &Options::interval, client_only("only a client makes connections"),
     "With --count: start one connection every DURATION (250ms, 2s, ...)"},
    {"--retry", "N", "0", "Retry N times when nothing answered",
     Category::scripted, &Options::retry, client_only("only a client makes connections"),
     "Try again, up to N more times, when a connection fails before anything was exchanged "
     "with the server in a way that may pass: no handshake within --connect-timeout (exit 4) "
     "or nothing listening on the UDP port (exit 18). Each attempt has its own --timeout; the "
     "exit code is the last attempt's. With --count, each connection retries on its own"},
    {"--retry-delay", "DURATION", "1s", "With --retry: wait between attempts",
     Category::scripted, &Options::retry_delay, client_only("only a client makes connections"),
     "With --retry: wait DURATION between attempts"},
    {"--alpn", "LIST", "quicc", "ALPN protocols to offer or accept",
     Category::connection, &Options::alpn, any_run,
     "Comma-separated ALPN protocols to offer (client) or accept (listener)",
     "quicc hq-interop h3 perf",
     "quicc --alpn h3 --send-file request.bin host:443",
     essential},
    {"--sni", "NAME", "", "Server name to send",
     Category::connection, &Options::sni, client_only("only a client sends a server name"),
     "Server name to send (default: HOST unless it is an address)"},
    {"--no-sni", "", "", "Send no server name",
     Category::connection, &Options::no_sni, client_only("only a client sends a server name")},
    {"--connect-to", "ADDR[:PORT]", "", "Dial ADDR[:PORT], keep HOST for SNI and checks",
     Category::connection, &Options::connect_to, client_only("only a client dials"),
     "Dial ADDR (and PORT) instead, keeping HOST for SNI and certificate verification",
     "",
     "quicc --connect-to 127.0.0.1:4433 example.org:443"},
    {"-4,--ipv4", "", "", "Use IPv4 addresses only", Category::connection, &Options::ipv4},
    {"-6,--ipv6", "", "", "Use IPv6 addresses only", Category::connection, &Options::ipv6},
    {"--idle-timeout", "DURATION", "30s", "QUIC idle timeout to offer; 0 disables it",
     Category::connection, &Options::idle_timeout, any_run,
     "QUIC idle timeout to offer (the smaller of both sides' applies); 0 disables it"},
    {"--session-out", "FILE", "", "Save the newest session ticket to FILE",
     Category::connection, &Options::session_out,
     client_only("only a client saves session tickets"),
     "Save the newest TLS session ticket to FILE (PEM)"},
    {"--session-in", "FILE", "", "Resume the TLS session in FILE",
     Category::connection, &Options::session_in, client_only("only a client resumes a session"),
     "Offer the TLS session in FILE to resume it"},
    {"--key-update", "BYTES", "", "Request a key update after BYTES sent",
     Category::connection, &Options::key_update, any_run,
     "Request a key update once BYTES have been sent and the peer's handshake is confirmed (0: "
     "as soon as it is; K, M, G suffixes)"},
    // Scripted checks (client).
    {"--check", "", "", "Handshake only; print what the server showed",
     Category::scripted, &Options::check, client_only("only a client checks a server's handshake"),
     "Handshake only: open no stream, wait up to twice the handshake time (100 ms to 1 s) for "
     "a session ticket, close with --close-code, and print on stdout what the server showed as "
     "key: value lines (one JSON object with --json, instead of the summary on stderr): ALPN, "
     "TLS version, cipher, group, its certificate's subject, issuer, names, validity, days "
     "left and SHA-256 fingerprint, handshake time and RTT (OpenSSL's handshake RTT; 3.5 "
     "exposes no QUIC RTT estimate), whether a session was offered and resumed, tickets "
     "received",
     "",
     "quicc --check --warn-days 14 host:4433",
     essential},
    {"--warn-days", "N", "", "Exit 17 if the certificate expires within N days",
     Category::scripted, &Options::warn_days,
     client_only("only a client checks the server's certificate"),
     "Exit 17 when the peer certificate expires within N days, once the run has otherwise "
     "succeeded"},
    {"--connect-timeout", "DURATION", "10s", "Handshake deadline",
     Category::connection, &Options::connect_timeout, any_run,
     "Handshake deadline: 250ms, 3s, 2m; a bare number means seconds",
     "",
     "",
     essential},
    {"--timeout", "DURATION", "", "Give up (exit 14) after DURATION in all",
     Category::lifecycle, &Options::timeout, any_run,
     "Give up (exit 14) when the whole run takes longer than this",
     "",
     "",
     essential},
    {"--idle-exit", "DURATION", "", "Close (exit 11) after DURATION without data",
     Category::lifecycle, &Options::idle_exit, any_run,
     "Close (exit 11) after this long without data in either direction"},
    {"-C,--crlf", "", "", "Send LF as CR LF (ncat -C)",
     Category::requests, &Options::crlf, not_service("it has no input"),
     "Send CR LF line endings: each LF of the input (stdin, --send, --send-file) that does not "
     "follow a CR goes as CR LF, as ncat -C does, for line protocols (an HTTP/0.9 GET typed at "
     "a terminal)"},
    {"--interactive", "", "", "Terminal session (~ commands) even off a tty",
     Category::lifecycle, &Options::interactive, not_service("it has no input"),
     "A terminal session even when stdin is not a terminal (the default when it is, for a pipe "
     "of one connection): a line typed right after a newline that begins with ~ is a command "
     "(~? lists them: ~. quit, ~f FIN, ~k key update, ~r CODE reset, ~c CODE close, ~i info, "
     "~l streams, ~n new stream, ~u new unidirectional stream, ~s N send on stream N; ~~ sends "
     "a ~), and notes on stderr say when the peer connects, finishes, resets or closes"},
    {"--no-interactive", "", "", "No terminal session: every line is data",
     Category::lifecycle, &Options::no_interactive, not_service("it has no input"),
     "No terminal session, even when stdin is a terminal: every line is data, ~ included"},
    {"--progress", "", "", "Show a progress meter on stderr",
     Category::output, &Options::progress,
     not_service("it serves many streams; --stats and SIGUSR1 tell its figures"),
     "Show a progress meter on stderr (bytes each way, current rates, elapsed time), redrawn "
     "in place and cleared at the end, even when stderr is not a terminal. It is shown by "
     "default when stderr is a terminal, once a transfer has run for a second: a pipe's when "
     "stdin is not a terminal, a --get's when its responses do not go to the terminal; never "
     "with -v (the log wins)"},
    {"--no-progress", "", "", "No progress meter, even on a terminal",
     Category::output, &Options::no_progress,
     not_service("it serves many streams; --stats and SIGUSR1 tell its figures")},
    {"--send-only", "", "", "Only send; discard what the peer sends",
     Category::lifecycle, &Options::send_only, not_service("it has no input"),
     "Only send (ncat --send-only): what the peer sends is read and discarded, and stdin's EOF "
     "ends the connection once our data is acknowledged (--on-eof close, unless given)"},
    {"--recv-only", "", "", "Only receive; do not read stdin",
     Category::lifecycle, &Options::recv_only, not_service("it has no input"),
     "Only receive (ncat --recv-only): stdin is not read; our side of the stream ends at once "
     "(a client opens the stream with a FIN) and the peer's data goes to stdout"},
    {"--on-eof", "MODE", "fin", "At stdin EOF: fin, close, ignore, reset[:CODE]",
     Category::lifecycle, &Options::on_eof, not_service("it has no input"),
     "What stdin EOF does: fin (send FIN, read until the peer's FIN), close (send FIN, close "
     "once it is acknowledged), ignore (send nothing; end once the peer's FIN has arrived, or "
     "the peer closes), reset[:CODE] (reset the stream with CODE, then close)",
     "fin close ignore reset",
     "printf 'quit\\n' | quicc --on-eof close host:4433"},
    {"--shutdown", "MODE", "graceful", "Close: graceful, full or rapid",
     Category::lifecycle, &Options::shutdown, not_service(clients_close),
     "graceful (wait for our data to be acknowledged, send CONNECTION_CLOSE; a client exits "
     "once it has left: closing the socket ends the closing period, RFC 9000 10.2), full "
     "(graceful, then stay for the closing period, about 3 PTOs, answering late packets; a "
     "listener always does), or rapid (send one CONNECTION_CLOSE and exit: no waiting for "
     "acknowledgements)",
     "graceful full rapid",
     "quicc --shutdown rapid --close-code 0x10 host:4433"},
    {"--no-stream-flush", "", "", "Close without waiting for stream data acks",
     Category::lifecycle, &Options::no_stream_flush, not_service(clients_close),
     "Close without waiting for stream data to be acknowledged"},
    {"--wait-peer", "", "", "When done, wait for the peer to close first",
     Category::lifecycle, &Options::wait_peer, not_service(clients_close),
     "When done, wait for the peer to close the connection first"},
    {"--close-code", "CODE", "0", "Application error code of our close",
     Category::lifecycle, &Options::close_code, not_service(clients_close),
     "Application error code of our CONNECTION_CLOSE (decimal or 0x hex, < 2^62)"},
    {"--close-reason", "TEXT", "", "Reason phrase of our close",
     Category::lifecycle, &Options::close_reason, not_service(clients_close),
     "Reason phrase of our CONNECTION_CLOSE"},
    {"--partial-write", "", "", "SSL_MODE_ENABLE_PARTIAL_WRITE on streams",
     Category::engine, &Options::partial_write, any_run,
     "Stream writes may take part of a buffer (SSL_MODE_ENABLE_PARTIAL_WRITE); default "
     "all-or-nothing"},
    {"--moving-buffer", "", "", "SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER on streams",
     Category::engine, &Options::moving_buffer, any_run,
     "Retry unfinished writes from a moved buffer (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)"},
    {"--cafile", "FILE", "", "Trust the CA certificates in FILE",
     Category::security, &Options::cafile, listener_with("--require-client-cert"),
     "Trust the CA certificates in FILE instead of the system store",
     "",
     "",
     essential},
    {"--capath", "DIR", "", "Trust the CA certificates in DIR",
     Category::security, &Options::capath, listener_with("--require-client-cert"),
     "Trust the CA certificates in DIR (hashed names, c_rehash)"},
    {"-k,--insecure", "", "", "Do not verify the peer's certificate",
     Category::security, &Options::insecure, client_only(only_client_verifies),
     "Do not verify the peer's certificate (a warning is printed every time)",
     "",
     "",
     essential},
    {"--require-client-cert", "", "", "Listener: require a client certificate",
     Category::security, &Options::require_client_cert,
     listener_only("it makes a listener verify its clients"),
     "Listener: require a client certificate signed by a CA from --cafile/--capath"},
    {"--ciphersuites", "LIST", "", "TLS 1.3 ciphersuites, colon-separated",
     Category::security, &Options::ciphersuites, any_run,
     "TLS 1.3 ciphersuites, colon-separated: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, "
     "TLS_CHACHA20_POLY1305_SHA256",
     "TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"},
    {"--groups", "LIST", "", "Key exchange groups, colon-separated",
     Category::security, &Options::groups, any_run,
     "Key exchange groups, colon-separated (e.g. X25519:P-256)",
     "X25519MLKEM768 X25519 P-256 P-384 P-521 X448"},
    {"--pin-sha256", "HEX", "", "Accept only this certificate fingerprint",
     Category::security, &Options::pin_sha256, client_only(only_client_verifies),
     "Accept exactly the peer certificate with this SHA-256 fingerprint (colons optional); "
     "replaces CA and name checks",
     "",
     "quicc --pin-sha256 86:10:F6:...:D7 127.0.0.1:4433",
     essential},
    {"--cert", "FILE", "", "Certificate chain (PEM) to present",
     Category::security, &Options::cert, any_run,
     "Certificate chain (PEM) to present; a listener without it generates an ephemeral one"},
    {"--key", "FILE", "", "Private key (PEM) for --cert", Category::security, &Options::key},
    {"--nonblocking", "", "yes", "Drive OpenSSL's event loop from poll()",
     Category::engine, &Options::nonblocking, any_run,
     "Drive OpenSSL's QUIC event loop from one poll() loop (the default)"},
    {"--blocking", "", "", "OpenSSL's blocking mode and threads",
     Category::engine, &Options::blocking, any_run,
     "Use OpenSSL's blocking mode, a reader and a writer thread"},
    {"-v,--verbose", "", "", "More log: -v, -vv event loop, -vvv trace",
     Category::output, &Options::verbose, any_run,
     "More log on stderr: -v milestones, -vv every event-loop turn, -vvv the TLS/QUIC message "
     "trace",
     "",
     "",
     essential},
    {"--keylog", "FILE", "", "Append TLS secrets to FILE (NSS format)",
     Category::output, &Options::keylog, any_run,
     "Append TLS secrets to FILE (NSS key log format; also from SSLKEYLOGFILE)"},
    {"--qlog-dir", "DIR", "", "Write a qlog trace per connection into DIR",
     Category::output, &Options::qlog_dir, any_run,
     "Write a qlog trace per connection into DIR (also from QLOGDIR)"},
    {"--stats", "", "", "At exit, print a summary on stderr",
     Category::output, &Options::stats, any_run,
     "At exit, print a summary on stderr (handshake, TLS, bytes, close)"},
    {"--json", "", "", "At exit, print the summary as JSON",
     Category::output, &Options::json, any_run,
     "At exit, print the summary as one JSON object on stderr",
     "",
     "",
     essential},
    {"--json-file", "FILE", "", "At exit, append the JSON summary to FILE",
     Category::output, &Options::json_file, any_run,
     "At exit, append the summary as one JSON object and a newline to FILE (JSON Lines; - is "
     "stdout)"},
    {"-w,--write-out", "FORMAT", "", "After the run, print FORMAT (curl -w)",
     Category::output, &Options::write_out,
     client_only("it prints a client's figures (--stats and --json summarise any run)"),
     "After the run, print FORMAT on stdout (after the data), as curl's -w: %{variable} is "
     "replaced by the run's figure (time_connect, time_handshake, time_total, alpn, exitcode, "
     "size_download, remote_ip, json, and every --stats field by its name), %% is a percent "
     "sign, \\n \\t \\r \\\\ are a newline, tab, carriage return and backslash",
     "",
     "quicc -w '%{time_handshake} %{alpn}\\n' --check host:4433"},
    {"--log-format", "text|json", "text", "Log as text or JSON Lines",
     Category::output, &Options::log_format, any_run,
     "Log as text, or as JSON Lines (one object per event, stable field names)",
     "text json"},
    {"--log-file", "FILE", "", "Write the log to FILE instead of stderr",
     Category::output, &Options::log_file, any_run,
     "Write the log to FILE instead of stderr (errors still go to stderr too)"},
    {"-h,--help", "[CATEGORY|all]", "", "Show help: CATEGORY or all for more", Category::general,
     &Options::help, any_run,
     "Show the essential options and exit; --help CATEGORY shows a category's options in "
     "full, --help all every option and the exit codes",
     "",
     "",
     essential},
    {"-V,--version", "", "", "Show version information and exit",
     Category::general, &Options::version, any_run,
     "",
     "",
     "",
     essential},
};

constexpr Category category_order[] = {Category::connection, Category::requests,
                                       Category::scripted,   Category::listener,
                                       Category::lifecycle,  Category::security,
                                       Category::output,     Category::engine,
                                       Category::general};

constexpr size_t help_width = 80;
constexpr size_t help_column = 31;  // where an option's one-line help starts

// "  -l, --listen [ADDR:]PORT", "      --alpn LIST": an option as help shows it.
std::string option_left(const OptionSpec& spec) {
  std::string left = "  " + std::string(spec.flags);
  if (size_t comma = left.find(','); comma != std::string::npos)
    left.insert(comma + 1, " ");
  else
    left.insert(2, "    ");  // long options line up after a short one's "-l, "
  if (!spec.argument.empty()) left += " " + std::string(spec.argument);
  return left;
}

// The option and its one-line help (and default) beside it, or below it when the left side is
// too wide.
std::string option_line(const OptionSpec& spec, bool with_default) {
  std::string left = option_left(spec);
  std::string help(spec.help);
  if (with_default && !spec.default_value.empty() && !spec.argument.empty())
    help += fmt::format(" (default: {})", spec.default_value);
  std::string out = left;
  if (left.size() + 1 > help_column)
    out += "\n" + std::string(help_column, ' ');
  else
    out += std::string(help_column - left.size(), ' ');
  return out + wrap(help, help_column, help_width) + "\n";
}

std::string exit_codes_text() {
  std::string out = "\nExit codes:\n";
  for (const auto& e : exit_code_table())
    out += fmt::format("  {:>3}  {}\n", e.code, wrap(e.description, 7, help_width));
  out +=
      "\nExit 0 means: every byte the peer sent up to its FIN reached stdout, and\n"
      "everything we sent was acknowledged. After the peer closes, what had arrived is\n"
      "still written out. Anything less exits non-zero and says what was lost;\n"
      "--shutdown rapid, --no-stream-flush and --on-eof close|ignore do not wait, but\n"
      "never exit 0 with data unacknowledged.\n"
      "SIGINT, SIGTERM, SIGHUP: close (at most 0.5 s); a second: at once; a third:\n"
      "killed.\n";
  out += fmt::format(
      "\nApplication error codes quicc closes with:\n"
      "  0x{:x}  interrupted (SIGINT/SIGTERM/SIGHUP)\n"
      "  0x{:x}  our output was closed by its reader (the stream is reset with this\n"
      "       code too)\n"
      "  0x{:x}  --timeout, --idle-exit, a listener's --idle-timeout (a --serve client\n"
      "       that sent no request for that long)\n"
      "  0x{:x}  a listener refusing a client: --max-conns connections are open\n"
      "  otherwise --close-code (default 0)\n"
      "Stream reset code 0x{:x}: both sides opened a stream at once; this half is unused.\n"
      "Stream reset code 0x{:x}: --serve found no such file, or refused the request (not\n"
      "  GET /PATH, outside DIR, not a regular file).\n",
      close_code_interrupted, close_code_output_closed, close_code_timeout, close_code_refused,
      stream_code_crossed, stream_code_refused);
  return out;
}

std::string topics_text() {
  std::string keys;
  for (Category c : category_order)
    keys += (keys.empty() ? "" : ", ") + std::string(category_key(c));
  return wrap("This is not the full help. quicc --help CATEGORY shows a category's options in "
              "full (" + keys + "); quicc --help all lists every option and the exit codes; "
              "man quicc has everything.",
              0, help_width) +
         "\n";
}

constexpr std::string_view usage_head =
    "Usage: quicc [OPTIONS] HOST:PORT\n"
    "       quicc [OPTIONS] --listen [ADDR:]PORT [--echo|--serve DIR|--sink|...]\n"
    "\n"
    "Pipes stdin and stdout over a QUIC stream (OpenSSL 3.5), fetches files over\n"
    "HTTP/0.9 (--get), measures goodput (--perf), or serves (--listen). HOST is a\n"
    "name, an IPv4 address or a bracketed IPv6 address: [::1]:4433.\n";

constexpr std::string_view examples_text =
    "\nExamples:\n"
    "  quicc example.org:4433                     a session from a terminal\n"
    "  tar c dir | quicc example.org:4433         pipe bytes, FIN at EOF\n"
    "  quicc --listen 4433 > received             receive one connection's stream\n"
    "  quicc --send ping --expect pong host:4433  a scripted check (16: no match)\n"
    "  quicc --check --json host:4433             what the server's handshake shows\n";

}  // namespace

std::string wrap(std::string_view text, size_t indent, size_t width) {
  std::string out, line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(start, end - start);
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    start = end + 1;
  }
  return out + line;
}

std::span<const OptionSpec> option_table() { return table; }

std::span<const Category> categories() { return category_order; }

std::string_view category_key(Category c) {
  switch (c) {
    case Category::connection: return "connection";
    case Category::requests: return "requests";
    case Category::scripted: return "scripted";
    case Category::listener: return "listener";
    case Category::security: return "security";
    case Category::lifecycle: return "ending";
    case Category::engine: return "advanced";
    case Category::output: return "output";
    case Category::general: return "general";
  }
  return "";
}

std::string_view category_title(Category c) {
  switch (c) {
    case Category::connection: return "Connection";
    case Category::requests: return "Requests and streams";
    case Category::scripted: return "Scripted checks";
    case Category::listener: return "Listener";
    case Category::security: return "Security";
    case Category::lifecycle: return "Ending the connection";
    case Category::engine: return "Advanced: OpenSSL's event loop and write modes";
    case Category::output: return "Output";
    case Category::general: return "General";
  }
  return "";
}

std::string_view long_name(const OptionSpec& spec) {
  auto pos = spec.flags.find("--");
  return pos == std::string_view::npos ? spec.flags : spec.flags.substr(pos);
}

bool was_given(const Options& options, std::string_view name) {
  if (options.given.contains(name)) return true;
  static const Options defaults;
  for (const auto& spec : table)
    if (long_name(spec) == name)
      return std::visit([&](auto member) { return options.*member != defaults.*member; },
                        spec.binding);
  return false;
}

ParseResult parse_command_line(int argc, const char* const* argv) {
  ParseResult result;
  Options& o = result.options;
  CLI::App app{"quicc"};
  app.set_help_flag();  // --help comes from our table, like every other option
  // Arguments it does not know are collected (remaining()) and explained below.
  app.allow_extras(true);

  std::vector<std::pair<std::string_view, CLI::Option*>> added;
  for (const auto& spec : table) {
    std::string flags(spec.flags);
    CLI::Option* option = std::visit(
        [&](auto member) {
          using T = std::remove_reference_t<decltype(o.*member)>;
          if constexpr (std::is_same_v<T, std::string>) {
            return app.add_option(flags, o.*member);
          } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            // One value per occurrence (--get a --get b), so a target after it stays the target.
            return app.add_option(flags, o.*member)
                ->expected(1)
                ->allow_extra_args(false)
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
          } else {
            return app.add_flag(flags, o.*member);
          }
        },
        spec.binding);
    if (long_name(spec) == "--help") option->expected(0, 1);  // --help [CATEGORY|all]
    added.emplace_back(long_name(spec), option);
  }
  app.add_option("target", o.target);

  try {
    app.parse(argc, argv);
    if (std::vector<std::string> extras = app.remaining(); !extras.empty()) {
      std::vector<std::string_view> names;
      for (const auto& spec : table) names.push_back(long_name(spec));
      result.error = unexpected_arguments_error(extras, o.target, names);
    }
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    result.error = what.empty() ? "invalid command line" : what;
  }
  for (auto [name, option] : added)
    if (option->count() > 0) o.given.emplace(name);
  // --send and --send-file are sent in the order they were given: CLI11 keeps each option's
  // values apart, its parse order says how they interleave.
  const CLI::Option* send = nullptr;
  const CLI::Option* send_file = nullptr;
  for (auto [name, option] : added) {
    if (name == "--send") send = option;
    if (name == "--send-file") send_file = option;
  }
  for (const CLI::Option* option : app.parse_order())
    if (option == send || option == send_file) o.send_order.push_back(option == send_file);
  return result;
}

std::optional<std::string> help_text(std::string_view topic) {
  std::string out(usage_head);
  if (topic.empty()) {
    // A newcomer's order: where to connect and whom to trust first.
    static constexpr Category newcomer_order[] = {
        Category::connection, Category::security, Category::lifecycle, Category::listener,
        Category::requests,   Category::scripted, Category::output,    Category::engine,
        Category::general};
    out += "\nOptions:\n";
    for (Category c : newcomer_order)
      for (const auto& spec : table)
        if (spec.category == c && spec.level == Level::essential) out += option_line(spec, true);
    out += "\n" + topics_text();
    out += examples_text;
    return out;
  }
  if (topic == "all") {
    for (Category c : category_order) {
      out += fmt::format("\n{}:\n", category_title(c));
      for (const auto& spec : table)
        if (spec.category == c) out += option_line(spec, true);
    }
    out += exit_codes_text();
    out += examples_text;
    return out;
  }
  for (Category c : category_order) {
    if (category_key(c) != topic) continue;
    out += fmt::format("\n{}:\n", category_title(c));
    // Each option's flags, then its whole description below them.
    for (const auto& spec : table) {
      if (spec.category != c) continue;
      out += option_left(spec) + "\n";
      std::string text(spec.text());
      if (!spec.default_value.empty() && !spec.argument.empty())
        text += fmt::format(" (default: {})", spec.default_value);
      out += std::string(10, ' ') + wrap(text, 10, help_width) + "\n";
    }
    return out;
  }
  return std::nullopt;
}

std::string unknown_help_topic(std::string_view topic) {
  std::string keys;
  for (Category c : category_order) keys += std::string(category_key(c)) + ", ";
  return "unknown help topic '" + std::string(topic) + "': try " + keys + "or all";
}

}  // namespace quicc::cli
