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

// Order within a category is the order --help shows.
constexpr OptionSpec table[] = {
    {"-l,--listen", "[ADDR:]PORT", "",
     "Listen for one QUIC connection instead of connecting (like nc -l); port 0 picks a free "
     "port; without ADDR, IPv6 and IPv4 ([::], dual-stack)",
     Category::listener, &Options::listen},
    {"--echo", "", "", "With --listen: echo every stream back to its sender",
     Category::listener, &Options::echo},
    {"--serve", "DIR", "",
     "With --listen: serve the files in DIR over HTTP/0.9 (GET /PATH on each stream, ALPN "
     "hq-interop unless --alpn); paths out of DIR are refused with a stream reset. A "
     "connection answering no request for --idle-timeout is closed (code 0x3)",
     Category::listener, &Options::serve},
    {"--sink", "", "",
     "With --listen: read every stream to its end and report its bytes and rate",
     Category::listener, &Options::sink},
    {"--source", "SIZE", "",
     "With --listen: send SIZE bytes, then FIN, on every stream the client opens (K, M, G "
     "suffixes)",
     Category::listener, &Options::source},
    {"--perf", "", "",
     "QUIC perf (draft-banks-quic-performance, ALPN perf unless --alpn). With --listen: a perf "
     "server: on each bidirectional stream, read the 8-byte big-endian size N and the upload up "
     "to the client's FIN, then send N bytes and FIN. Without: a perf client (--upload, "
     "--download, --streams, --duration) that prints goodput each way every second and for "
     "the whole run on stdout (--json: JSON lines); without --upload and --download it asks "
     "for --download 100M",
     Category::listener, &Options::perf},
    {"--keep-open", "", "",
     "With --listen: serve connections concurrently until interrupted (like ncat -k); a pipe "
     "listener sends its input to every client connected at the time and writes what every "
     "client sends to its output. Without it the listener exits after its first connection",
     Category::listener, &Options::keep_open},
    {"--max-conns", "N", "100",
     "With --listen: serve at most N connections at once, those in their handshake included "
     "(like ncat -m); a client arriving while N are open is refused: closed with code 0x5 "
     "(too many connections) once its handshake is done, and the listener logs a warning "
     "naming it",
     Category::listener, &Options::max_conns},
    {"--get", "PATH", "",
     "Request PATH over HTTP/0.9 (GET /PATH, then FIN) on a stream of its own; repeatable; "
     "ALPN hq-interop unless --alpn",
     Category::requests, &Options::get},
    {"--get-list", "FILE", "", "Request every path in FILE, one per line, as --get does",
     Category::requests, &Options::get_list},
    {"--max-streams", "K", "",
     "At most K requests in flight at once (default: as many as the peer allows)",
     Category::requests, &Options::max_streams},
    {"--upload", "SIZE", "0",
     "With --perf: send SIZE bytes after each request's 8-byte header (K, M, G suffixes)",
     Category::requests, &Options::upload},
    {"--download", "SIZE", "0",
     "With --perf: ask for SIZE bytes on each request stream; each response must be exactly "
     "that long",
     Category::requests, &Options::download},
    {"--streams", "K", "1", "With --perf: K request streams at once", Category::requests,
     &Options::streams},
    {"--duration", "DURATION", "",
     "With --perf: each stream makes request after request until DURATION has passed (none "
     "starts later; those under way finish); without it, one request per stream",
     Category::requests, &Options::duration},
    {"--output-dir", "DIR", "",
     "Save each response to DIR, named by its path's last component", Category::requests,
     &Options::output_dir},
    {"-o,--output", "FILE", "", "Save the response of the one request to FILE (default: stdout)",
     Category::requests, &Options::output},
    {"--peer-streams", "MODE", "ignore",
     "Pipe mode, streams the peer opens beyond the pipe's (unidirectional ones too): accept "
     "(show their data on stderr, escaped, or save it to --output-dir as stream-ID), "
     "reject[:CODE] (reset our half with CODE, default 0; STOP_SENDING, whose code OpenSSL "
     "3.5 sets to 0), ignore (leave them unread, with a warning)",
     Category::requests, &Options::peer_streams},
    // Scripted checks.
    {"--send", "DATA", "",
     "Send DATA instead of reading stdin, then end our side as at stdin EOF (--on-eof); "
     "escapes \\r \\n \\t \\\\ \\xNN; repeatable, and mixed with --send-file, sent in "
     "command-line order",
     Category::scripted, &Options::send},
    {"--send-file", "FILE", "",
     "Send the contents of FILE instead of reading stdin; repeatable, and mixed with --send, "
     "sent in command-line order",
     Category::scripted, &Options::send_file},
    {"--expect", "REGEX", "",
     "Exit 16 unless the data received matches REGEX (ECMAScript; ^ and $ match at line "
     "breaks too; no back-references; the first 1 MiB is searched); repeatable: all must "
     "match. Received data still goes to stdout. Once all have matched and our input is all "
     "sent and acknowledged, reading stops and the run ends as at the peer's FIN",
     Category::scripted, &Options::expect},
    {"--expect-close", "", "",
     "With --expect: read on to the peer's FIN or close, then judge, instead of stopping at "
     "the match",
     Category::scripted, &Options::expect_close},
    {"--count", "N", "1",
     "Make N connections in one process, each a whole run (resolve, handshake, the same "
     "input, close) whose received data is discarded; report each as it ends (--json, "
     "--json-file, -w) and then the aggregate on stderr: successes, failures by exit class, "
     "and min/median/p90/p99/max of dns, connect, handshake, first byte and total times. The "
     "input (stdin, or --send and --send-file; at most 16 MiB) is read once. The exit code is 0 when every connection succeeded, else the "
     "lowest failing one (the failure met earliest in a connection's life), or the interrupt's",
     Category::scripted, &Options::count},
    {"--parallel", "K", "1", "With --count: at most K connections at once", Category::scripted,
     &Options::parallel},
    {"--interval", "DURATION", "0",
     "With --count: start one connection every DURATION (250ms, 2s, ...)", Category::scripted,
     &Options::interval},
    {"--retry", "N", "0",
     "Try again, up to N more times, when a connection fails before anything was exchanged "
     "with the server in a way that may pass: no handshake within --connect-timeout (exit 4) "
     "or nothing listening on the UDP port (exit 18). Each attempt has its own --timeout; "
     "the exit code is the last attempt's. With --count, each connection retries on its own",
     Category::scripted, &Options::retry},
    {"--retry-delay", "DURATION", "1s", "With --retry: wait DURATION between attempts",
     Category::scripted, &Options::retry_delay},
    {"--alpn", "LIST", "quicc",
     "Comma-separated ALPN protocols to offer (client) or accept (listener)",
     Category::connection, &Options::alpn},
    {"--sni", "NAME", "", "Server name to send (default: HOST unless it is an address)",
     Category::connection, &Options::sni},
    {"--no-sni", "", "", "Send no server name", Category::connection, &Options::no_sni},
    {"--connect-to", "ADDR[:PORT]", "",
     "Dial ADDR (and PORT) instead, keeping HOST for SNI and certificate verification",
     Category::connection, &Options::connect_to},
    {"-4,--ipv4", "", "", "Use IPv4 addresses only", Category::connection, &Options::ipv4},
    {"-6,--ipv6", "", "", "Use IPv6 addresses only", Category::connection, &Options::ipv6},
    {"--idle-timeout", "DURATION", "30s",
     "QUIC idle timeout to offer (the smaller of both sides' applies); 0 disables it",
     Category::connection, &Options::idle_timeout},
    {"--session-out", "FILE", "", "Save the newest TLS session ticket to FILE (PEM)",
     Category::connection, &Options::session_out},
    {"--session-in", "FILE", "", "Offer the TLS session in FILE to resume it",
     Category::connection, &Options::session_in},
    {"--key-update", "BYTES", "",
     "Request a key update once BYTES have been sent and the peer's handshake is confirmed "
     "(0: as soon as it is; K, M, G suffixes)",
     Category::connection, &Options::key_update},
    // Scripted checks (client).
    {"--check", "", "",
     "Handshake only: open no stream, wait up to twice the handshake time (100 ms to 1 s) for "
     "a session ticket, close with --close-code, and print on stdout what the server showed "
     "as key: value lines (one JSON object with --json, instead of the summary on stderr): "
     "ALPN, TLS version, cipher, group, its certificate's subject, issuer, names, validity, "
     "days left and SHA-256 fingerprint, handshake time and RTT (OpenSSL's handshake RTT; "
     "3.5 exposes no QUIC RTT estimate), whether a session was offered and resumed, tickets "
     "received",
     Category::scripted, &Options::check},
    {"--warn-days", "N", "",
     "Exit 17 when the peer certificate expires within N days, once the run has otherwise "
     "succeeded",
     Category::scripted, &Options::warn_days},
    {"--connect-timeout", "DURATION", "10s",
     "Handshake deadline: 250ms, 3s, 2m; a bare number means seconds", Category::connection,
     &Options::connect_timeout},
    {"--timeout", "DURATION", "",
     "Give up (exit 14) when the whole run takes longer than this", Category::lifecycle,
     &Options::timeout},
    {"--idle-exit", "DURATION", "",
     "Close (exit 11) after this long without data in either direction", Category::lifecycle,
     &Options::idle_exit},
    {"-C,--crlf", "", "",
     "Send CR LF line endings: each LF of the input (stdin, --send, --send-file) that does not "
     "follow a CR goes as CR LF, as ncat -C does, for line protocols (an HTTP/0.9 GET typed "
     "at a terminal)",
     Category::requests, &Options::crlf},
    {"--interactive", "", "",
     "A terminal session even when stdin is not a terminal (the default when it is, for a "
     "pipe of one connection): a line typed right after a newline that begins with ~ is a "
     "command (~? lists them: ~. quit, ~f FIN, ~k key update, ~r CODE reset, ~c CODE close, "
     "~i info, ~l streams, ~n new stream, ~u new unidirectional stream, ~s N send on stream N; "
     "~~ sends a ~), and notes on stderr say when the peer connects, "
     "finishes, resets or closes",
     Category::lifecycle, &Options::interactive},
    {"--no-interactive", "", "",
     "No terminal session, even when stdin is a terminal: every line is data, ~ included",
     Category::lifecycle, &Options::no_interactive},
    {"--progress", "", "",
     "Show a progress meter on stderr (bytes each way, current rates, elapsed time), redrawn "
     "in place and cleared at the end, even when stderr is not a terminal. It is shown by "
     "default when stderr is a terminal, once a transfer has run for a second: a pipe's when "
     "stdin is not a terminal, a --get's when its responses do not go to the terminal; never "
     "with -v (the log wins)",
     Category::output, &Options::progress},
    {"--no-progress", "", "", "No progress meter, even on a terminal", Category::output,
     &Options::no_progress},
    {"--send-only", "", "",
     "Only send (ncat --send-only): what the peer sends is read and discarded, and stdin's "
     "EOF ends the connection once our data is acknowledged (--on-eof close, unless given)",
     Category::lifecycle, &Options::send_only},
    {"--recv-only", "", "",
     "Only receive (ncat --recv-only): stdin is not read; our side of the stream ends at once "
     "(a client opens the stream with a FIN) and the peer's data goes to stdout",
     Category::lifecycle, &Options::recv_only},
    {"--on-eof", "MODE", "fin",
     "What stdin EOF does: fin (send FIN, read until the peer's FIN), close (send FIN, close "
     "once it is acknowledged), ignore (send nothing; end once the peer's FIN has arrived, "
     "or the peer closes), "
     "reset[:CODE] (reset the stream with CODE, then close)",
     Category::lifecycle, &Options::on_eof},
    {"--shutdown", "MODE", "graceful",
     "graceful (wait for our data to be acknowledged, send CONNECTION_CLOSE; a client exits "
     "once it has left: closing the socket ends the closing period, RFC 9000 10.2), full "
     "(graceful, then stay for the closing period, about 3 PTOs, answering late packets; a "
     "listener always does), or rapid (send one CONNECTION_CLOSE and exit: no waiting for "
     "acknowledgements)",
     Category::lifecycle, &Options::shutdown},
    {"--no-stream-flush", "", "", "Close without waiting for stream data to be acknowledged",
     Category::lifecycle, &Options::no_stream_flush},
    {"--wait-peer", "", "", "When done, wait for the peer to close the connection first",
     Category::lifecycle, &Options::wait_peer},
    {"--close-code", "CODE", "0",
     "Application error code of our CONNECTION_CLOSE (decimal or 0x hex, < 2^62)",
     Category::lifecycle, &Options::close_code},
    {"--close-reason", "TEXT", "", "Reason phrase of our CONNECTION_CLOSE", Category::lifecycle,
     &Options::close_reason},
    {"--partial-write", "", "",
     "Stream writes may take part of a buffer (SSL_MODE_ENABLE_PARTIAL_WRITE); default "
     "all-or-nothing",
     Category::lifecycle, &Options::partial_write},
    {"--moving-buffer", "", "",
     "Retry unfinished writes from a moved buffer (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)",
     Category::lifecycle, &Options::moving_buffer},
    {"--cafile", "FILE", "", "Trust the CA certificates in FILE instead of the system store",
     Category::security, &Options::cafile},
    {"--capath", "DIR", "", "Trust the CA certificates in DIR (hashed names, c_rehash)",
     Category::security, &Options::capath},
    {"-k,--insecure", "", "",
     "Do not verify the peer's certificate (a warning is printed every time)",
     Category::security, &Options::insecure},
    {"--require-client-cert", "", "",
     "Listener: require a client certificate signed by a CA from --cafile/--capath",
     Category::security, &Options::require_client_cert},
    {"--ciphersuites", "LIST", "",
     "TLS 1.3 ciphersuites, colon-separated: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, "
     "TLS_CHACHA20_POLY1305_SHA256",
     Category::security, &Options::ciphersuites},
    {"--groups", "LIST", "", "Key exchange groups, colon-separated (e.g. X25519:P-256)",
     Category::security, &Options::groups},
    {"--pin-sha256", "HEX", "",
     "Accept exactly the peer certificate with this SHA-256 fingerprint (colons optional); "
     "replaces CA and name checks",
     Category::security, &Options::pin_sha256},
    {"--cert", "FILE", "",
     "Certificate chain (PEM) to present; a listener without it generates an ephemeral one",
     Category::security, &Options::cert},
    {"--key", "FILE", "", "Private key (PEM) for --cert", Category::security, &Options::key},
    {"--nonblocking", "", "yes",
     "Drive OpenSSL's QUIC event loop from one poll() loop (the default)", Category::engine,
     &Options::nonblocking},
    {"--blocking", "", "",
     "Use OpenSSL's blocking mode, a reader and a writer thread", Category::engine,
     &Options::blocking},
    {"-v,--verbose", "", "",
     "More log on stderr: -v milestones, -vv every event-loop turn, -vvv the TLS/QUIC "
     "message trace",
     Category::output, &Options::verbose},
    {"--keylog", "FILE", "",
     "Append TLS secrets to FILE (NSS key log format; also from SSLKEYLOGFILE)",
     Category::output, &Options::keylog},
    {"--qlog-dir", "DIR", "",
     "Write a qlog trace per connection into DIR (also from QLOGDIR)", Category::output,
     &Options::qlog_dir},
    {"--stats", "", "", "At exit, print a summary on stderr (handshake, TLS, bytes, close)",
     Category::output, &Options::stats},
    {"--json", "", "", "At exit, print the summary as one JSON object on stderr",
     Category::output, &Options::json},
    {"--json-file", "FILE", "",
     "At exit, append the summary as one JSON object and a newline to FILE (JSON Lines; - is "
     "stdout)",
     Category::output, &Options::json_file},
    {"-w,--write-out", "FORMAT", "",
     "After the run, print FORMAT on stdout (after the data), as curl's -w: %{variable} is "
     "replaced by the run's figure (time_connect, time_handshake, time_total, alpn, exitcode, "
     "size_download, remote_ip, json, and every --stats field by its name), %% is a percent "
     "sign, \\n \\t \\r \\\\ are a newline, tab, carriage return and backslash",
     Category::output, &Options::write_out},
    {"--log-format", "text|json", "text",
     "Log as text, or as JSON Lines (one object per event, stable field names)",
     Category::output, &Options::log_format},
    {"--log-file", "FILE", "",
     "Write the log to FILE instead of stderr (errors still go to stderr too)", Category::output,
     &Options::log_file},
    {"-h,--help", "", "", "Show this help and exit", Category::general, &Options::help},
    {"-V,--version", "", "", "Show version information and exit", Category::general,
     &Options::version},
};

constexpr Category category_order[] = {Category::connection, Category::requests,
                                       Category::scripted,   Category::listener,
                                       Category::lifecycle,  Category::security,
                                       Category::engine,     Category::output,
                                       Category::general};

// Word-wraps `text` to `width` columns, continuation lines indented by `indent`.
std::string wrap(const std::string& text, size_t indent, size_t width) {
  std::string out, line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(start, end - start);
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  return out + line;
}

}  // namespace

std::span<const OptionSpec> option_table() { return table; }

std::string_view category_title(Category c) {
  switch (c) {
    case Category::connection: return "Connection";
    case Category::requests: return "Requests and streams";
    case Category::scripted: return "Scripted checks";
    case Category::listener: return "Listener";
    case Category::security: return "Security";
    case Category::lifecycle: return "Ending the connection";
    case Category::engine: return "Engine";
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

std::string help_text() {
  std::string out =
      "Usage: quicc [OPTIONS] HOST:PORT\n"
      "       quicc [OPTIONS] --get PATH... [--output-dir DIR] HOST:PORT\n"
      "       quicc [OPTIONS] --perf [--upload SIZE] [--download SIZE] [--streams K] HOST:PORT\n"
      "       quicc [OPTIONS] --listen [ADDR:]PORT [--echo|--serve DIR|--sink|--source SIZE|--perf]\n"
      "\n"
      "Pipes stdin and stdout over one bidirectional QUIC stream (OpenSSL 3.5), fetches files\n"
      "over HTTP/0.9 (--get), measures goodput (--perf), or serves them (--listen).\n"
      "HOST may be a name, an IPv4 address or a bracketed IPv6 address: [::1]:4433.\n";
  for (Category c : category_order) {
    out += fmt::format("\n{}:\n", category_title(c));
    for (const auto& spec : table) {
      if (spec.category != c) continue;
      std::string left(spec.flags);
      if (!spec.argument.empty()) left += " " + std::string(spec.argument);
      std::string help(spec.help);
      if (!spec.default_value.empty() && !spec.argument.empty())
        help += fmt::format(" (default: {})", spec.default_value);
      out += fmt::format("  {:<30} {}\n", left, wrap(help, 33, 100));
    }
  }
  out += "\nExit codes:\n";
  for (const auto& e : exit_code_table())
    out += fmt::format("  {:>3}  {}\n", e.code, e.description);
  out +=
      "\nExit 0 means: every byte the peer sent up to its FIN reached stdout, and everything we\n"
      "sent was acknowledged. After the peer closes, what had arrived is still written out.\n"
      "Anything less exits non-zero and says what was lost; --shutdown rapid, --no-stream-flush\n"
      "and --on-eof close|ignore do not wait, but never exit 0 with data unacknowledged.\n"
      "SIGINT, SIGTERM, SIGHUP: close (at most 0.5 s); a second: at once; a third: killed.\n";
  out += fmt::format(
      "\nApplication error codes quicc closes with:\n"
      "  0x{:x}  interrupted (SIGINT/SIGTERM/SIGHUP)\n"
      "  0x{:x}  our output was closed by its reader (the stream is reset with this code too)\n"
      "  0x{:x}  --timeout, --idle-exit, a listener's --idle-timeout (a --serve client that sent\n"
      "        no request for that long)\n"
      "  0x{:x}  a listener refusing a client: --max-conns connections are open\n"
      "  otherwise --close-code (default 0)\n"
      "Stream reset code 0x{:x}: both sides opened a stream at once; this half is unused.\n"
      "Stream reset code 0x{:x}: --serve found no such file, or refused the request (not\n"
      "  GET /PATH, outside DIR, not a regular file).\n",
      close_code_interrupted, close_code_output_closed, close_code_timeout, close_code_refused,
      stream_code_crossed, stream_code_refused);
  return out;
}

}  // namespace quicc::cli
