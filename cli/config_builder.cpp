#include "config_builder.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <tuple>

#include <fcntl.h>
#include <openssl/opensslconf.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdlib>
#include <fstream>
#include <set>

#include "cli/file_checks.hpp"
#include "cli/usage_hints.hpp"
#include "cli/role_rules.hpp"
#include "cli/safe_text.hpp"
#include "core/expect.hpp"
#include "core/perf_framing.hpp"
#include "core/tls.hpp"

namespace quicc::cli {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error) {
  size_t unit_at = 0;
  while (unit_at < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[unit_at])) || text[unit_at] == '.'))
    ++unit_at;
  std::string number(text.substr(0, unit_at));
  std::string_view unit = text.substr(unit_at);
  double value = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  double scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit.empty() || unit == "s") scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() || scale == 0 ||
      !std::isfinite(value * scale) || value * scale > 1e12) {
    error = "invalid duration '" + std::string(text) + "' (examples: 250ms, 3s, 2m)";
    return std::nullopt;
  }
  auto ms = std::llround(value * scale);
  // Zero is a value of its own (--idle-timeout 0 disables the timeout); a tiny one is not it.
  if (ms == 0 && value > 0) {
    error = "duration '" + std::string(text) + "' is below the 1 ms resolution";
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::optional<std::vector<std::string>> parse_alpn_list(std::string_view text, std::string& error) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (item.empty() || item.size() > 255) {
      error = "invalid --alpn '" + std::string(text) +
              "': each protocol must be 1 to 255 bytes, separated by commas";
      return std::nullopt;
    }
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<std::string> parse_pin(std::string_view text, std::string& error) {
  std::string hex;
  for (char c : text) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      hex.clear();
      break;
    }
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.size() != 64) {
    error = "invalid --pin-sha256 '" + std::string(text) +
            "': expected a SHA-256 fingerprint, 64 hex digits (colons optional)";
    return std::nullopt;
  }
  return hex;
}

std::optional<uint64_t> parse_error_code(std::string_view text, std::string& error) {
  int base = 10;
  std::string_view digits = text;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() ||
      value >= (uint64_t{1} << 62)) {
    error = "invalid error code '" + std::string(text) + "' (decimal or 0x hex, below 2^62)";
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> parse_size(std::string_view text, std::string& error) {
  uint64_t scale = 1;
  std::string_view digits = text;
  if (!digits.empty()) {
    switch (std::toupper(static_cast<unsigned char>(digits.back()))) {
      case 'K': scale = 1ull << 10; break;
      case 'M': scale = 1ull << 20; break;
      case 'G': scale = 1ull << 30; break;
    }
    if (scale != 1) digits.remove_suffix(1);
  }
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() ||
      value > (uint64_t{1} << 50) / scale) {
    error = "invalid size '" + std::string(text) + "' (examples: 0, 1500, 64K, 10M)";
    return std::nullopt;
  }
  return value * scale;
}

std::optional<std::string> parse_request_path(std::string_view text, std::string& error) {
  std::string path = text.starts_with('/') ? std::string(text) : "/" + std::string(text);
  for (unsigned char c : path) {
    if (c <= 0x20 || c == 0x7f) {
      error = "invalid request path '" + std::string(text) +
              "': no spaces or control characters (they would end the request line)";
      return std::nullopt;
    }
  }
  if (path.size() > 1024) {
    error = "request path longer than 1024 bytes: '" + path.substr(0, 40) + "...'";
    return std::nullopt;
  }
  return path;
}

std::optional<std::string> response_file_name(std::string_view path, std::string& error) {
  std::string_view name = path.substr(path.rfind('/') + 1);
  if (name.empty() || name == "." || name == "..") {
    error = "request path '" + std::string(path) +
            "' names no file to save the response as (--output-dir uses its last component)";
    return std::nullopt;
  }
  return std::string(name);
}

std::optional<LogFormat> parse_log_format(std::string_view text, std::string& error) {
  if (text == "text") return LogFormat::text;
  if (text == "json") return LogFormat::json;
  error = "invalid --log-format '" + std::string(text) + "': expected text or json";
  return std::nullopt;
}

std::optional<std::string> parse_send_escapes(std::string_view text, std::string& error) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    std::string problem;
    if (i + 1 == text.size()) {
      problem = "a lone backslash at the end";
    } else {
      switch (text[i + 1]) {
        case 'r': out += '\r'; ++i; continue;
        case 'n': out += '\n'; ++i; continue;
        case 't': out += '\t'; ++i; continue;
        case '\\': out += '\\'; ++i; continue;
        case 'x':
          if (i + 3 < text.size() && hex(text[i + 2]) >= 0 && hex(text[i + 3]) >= 0) {
            out += static_cast<char>(hex(text[i + 2]) * 16 + hex(text[i + 3]));
            i += 3;
            continue;
          }
          problem = "'" + terminal_text(text.substr(i, 4)) + "' needs two hex digits";
          break;
        default:
          problem = "unknown escape '" + terminal_text(text.substr(i, 2)) + "'";
      }
    }
    // The argument may be long (a whole request): its start is enough to find it.
    std::string shown = terminal_text(text.substr(0, 60)) + (text.size() > 60 ? "..." : "");
    error = "invalid --send '" + shown + "': " + problem +
            " (escapes: \\r \\n \\t \\\\ \\xNN)";
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> open_send_files(Config& config) {
  for (InputPart& part : config.send) {
    if (part.file.empty() || part.fd >= 0) continue;
    int fd = ::open(part.file.c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return "cannot read --send-file '" + part.file + "': " + std::strerror(errno);
    part.fd = fd;
  }
  return std::nullopt;
}

namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// Which options go together and which exclude each other; the run's mode first, as the role
// rules depend on it.
std::optional<std::string> check_combinations(const Options& o, RunMode mode) {
  bool listening = mode != RunMode::client;
  if (listening && !o.target.empty()) return "give either HOST:PORT or --listen, not both";
  if (!listening && o.target.empty())
    return "missing HOST:PORT (or --listen PORT); see quicc --help";
  if (auto refusal = role_refusal(o, mode)) return refusal;
  // A perf client's options (the role rules refuse them on a listener).
  for (std::string_view option : {"--upload", "--download", "--streams", "--duration"})
    if (was_given(o, option) && !o.perf) return std::string(option) + " needs --perf";
  if (o.perf && !listening)
    for (std::string_view option : {"--get", "--get-list", "--send", "--send-file", "--expect",
                                    "--check", "--count", "--interactive", "--send-only",
                                    "--recv-only", "--on-eof"})
      if (was_given(o, option))
        return "--perf does not go with " + std::string(option) +
               " (a perf client sends its own requests and reads no input)";
  if (o.blocking && o.nonblocking) return "--blocking and --nonblocking exclude each other";
  if (was_given(o, "--cert") != was_given(o, "--key")) return "--cert and --key go together";
  if (o.require_client_cert && !was_given(o, "--cafile") && !was_given(o, "--capath"))
    return "--require-client-cert needs --cafile or --capath to verify clients against";
  if (o.ipv4 && o.ipv6) return "-4 and -6 exclude each other";
  if (o.no_sni && was_given(o, "--sni")) return "--sni and --no-sni exclude each other";
  int services = 0;
  for (std::string_view service : service_options) services += was_given(o, service) ? 1 : 0;
  if (services > 1) return "--echo, --serve, --sink, --source and --perf exclude each other";
  bool requesting = was_given(o, "--get") || was_given(o, "--get-list");
  for (std::string_view option : {"--max-streams", "--output"})
    if (was_given(o, option) && !requesting)
      return std::string(option) + " needs --get or --get-list";
  if (was_given(o, "--output") && was_given(o, "--output-dir"))
    return "--output and --output-dir exclude each other";
  // Scripted checks are pipe mode's: requests send and check their own data.
  for (std::string_view option : {"--send", "--send-file", "--expect", "--expect-close"})
    if (was_given(o, option) && requesting)
      return std::string(option) + " does not go with --get or --get-list (it is for pipe mode)";
  if (o.expect_close && !was_given(o, "--expect")) return "--expect-close needs --expect";
  // A pipe listener with --keep-open relays stdin to every client (core/relay.hpp).
  for (std::string_view option : {"--send", "--send-file", "--expect", "--expect-close"})
    if (was_given(o, option) && o.keep_open)
      return std::string(option) + " does not go with --keep-open (it is for one connection)";
  // A check opens no stream and reads no input: options about streams would do nothing.
  if (o.check)
    for (std::string_view option :
         {"--get", "--get-list", "--output-dir", "--peer-streams", "--on-eof", "--crlf", "--key-update",
          "--idle-exit", "--send", "--send-file", "--expect", "--expect-close"})
      if (was_given(o, option))
        return "--check excludes " + std::string(option) + " (a check opens no stream)";
  return std::nullopt;
}

// --send-only and --recv-only (ncat's): one direction of the pipe. The other is discarded
// (/dev/null as the output) or never read (the input at EOF from the start).
bool set_direction(const Options& o, Config& config, std::string& error) {
  if (o.send_only && o.recv_only) {
    error = "--send-only and --recv-only exclude each other";
    return false;
  }
  if (!o.send_only && !o.recv_only) return true;
  std::string_view self = o.send_only ? "--send-only" : "--recv-only";
  std::vector<std::string_view> excluded{"--get", "--get-list", "--check"};
  if (o.send_only) excluded.insert(excluded.end(), {"--expect", "--expect-close"});
  if (o.recv_only) excluded.insert(excluded.end(), {"--send", "--send-file", "--interactive", "--crlf"});
  for (std::string_view option : excluded)
    if (was_given(o, option)) {
      error = std::string(self) + " does not go with " + std::string(option);
      return false;
    }
  if (o.recv_only) {
    config.input_fd = -1;
    return true;
  }
  int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null < 0) {
    error = std::string("--send-only: cannot open /dev/null: ") + std::strerror(errno);
    return false;
  }
  config.output_fd = null;  // for the life of the process
  if (!was_given(o, "--on-eof")) config.on_eof = EofPolicy::close;
  return true;
}

// The option that makes this run something other than the pipe of one connection, if any
// (`with_scripts`: --send and --send-file count too, as they replace the input).
std::string_view beyond_one_pipe(const Options& o, const Config& config, bool with_scripts) {
  if (!config.requests.empty()) return "--get";
  if (config.perf_client) return "--perf";
  if (config.check) return "--check";
  if (with_scripts && !o.send.empty()) return "--send";
  if (with_scripts && !o.send_file.empty()) return "--send-file";
  if (config.count > 1) return "--count";
  if (config.keep_open) return "--keep-open";
  return {};
}

// A terminal session (core/terminal.hpp): asked for with --interactive, or stdin is a terminal
// and the run is a pipe of one connection.
bool set_interactive(const Options& o, Config& config, std::string& error) {
  if (o.interactive && o.no_interactive) {
    error = "--interactive and --no-interactive exclude each other";
    return false;
  }
  std::string_view other = beyond_one_pipe(o, config, true);
  if (o.interactive && !other.empty()) {
    error = "--interactive does not go with " + std::string(other) +
            " (a terminal session is the pipe of one connection)";
    return false;
  }
  config.interactive = o.interactive ||
                       (!o.no_interactive && other.empty() && config.service == Service::pipe &&
                        config.input_fd >= 0 && ::isatty(config.input_fd) == 1);
  // A person at a terminal sees the peer's own streams (labelled, on stderr) unless told.
  if (config.interactive && !was_given(o, "--peer-streams")) config.peer_streams = PeerStreams::accept;
  return true;
}

// The progress meter: asked for with --progress, or stderr is a terminal for a pipe of one
// connection (stdin not a terminal: a terminal session's typing shares it) or for --get (its
// responses not on the terminal, as curl: saved to files, or stdout redirected). -v's log wins.
bool set_progress(const Options& o, Config& config, std::string& error) {
  if (o.progress && o.no_progress) {
    error = "--progress and --no-progress exclude each other";
    return false;
  }
  bool get = !config.requests.empty();
  std::string_view other = beyond_one_pipe(o, config, false);
  if (get) other = config.count > 1 ? "--count" : "";
  if (o.progress && !other.empty()) {
    error = "--progress does not go with " + std::string(other) +
            " (the meter is a pipe's or --get's)";
    return false;
  }
  bool quiet_log = o.verbose == 0 && o.log_file.empty() && o.log_format == "text";
  bool responses_on_terminal = config.output_dir.empty() && config.output_file.empty() &&
                               ::isatty(config.output_fd) == 1;
  bool fits = other.empty() && (get ? !responses_on_terminal
                                     : !config.interactive && config.service == Service::pipe);
  config.progress = o.verbose == 0 &&
                    (o.progress || (!o.no_progress && fits && quiet_log && ::isatty(STDERR_FILENO) == 1));
  return true;
}

// --warn-days N: whole days, 0 to 100000 (0: only an expired certificate).
bool set_warn_days(const Options& o, Config& config, std::string& error) {
  if (!was_given(o, "--warn-days")) return true;
  int64_t days = -1;
  const std::string& text = o.warn_days;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || days < 0 ||
      days > 100'000) {
    error = "invalid --warn-days '" + text + "': expected whole days, 0 to 100000";
    return false;
  }
  config.warn_days = days;
  return true;
}

// --send, --send-file, --expect, --expect-close.
bool set_scripted_checks(const Options& o, Config& config, std::string& error) {
  std::vector<bool> order = o.send_order;
  if (order.size() != o.send.size() + o.send_file.size()) {
    // Options filled by code: every --send, then every --send-file.
    order.assign(o.send.size(), false);
    order.insert(order.end(), o.send_file.size(), true);
  }
  size_t next_send = 0, next_file = 0;
  for (bool file : order) {
    InputPart part;
    if (file) {
      part.file = o.send_file[next_file++];
      if (auto problem = check_readable_file("--send-file", part.file)) {
        error = *problem;
        return false;
      }
    } else {
      auto bytes = parse_send_escapes(o.send[next_send++], error);
      if (!bytes) return false;
      part.bytes = std::move(*bytes);
    }
    config.send.push_back(std::move(part));
  }
  for (const auto& pattern : o.expect) {
    if (auto problem = Expectations::invalid(pattern)) {
      error = "invalid --expect '" + terminal_text(pattern) + "': " + *problem;
      return false;
    }
  }
  config.expect = o.expect;
  config.expect_close = o.expect_close;
  return true;
}

std::optional<std::string> read_request_list(const std::string& file,
                                             std::vector<std::string>& paths) {
  std::ifstream in(file);
  if (!in) return "cannot read --get-list '" + file + "'";
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    paths.push_back(line);
  }
  if (in.bad()) return "cannot read --get-list '" + file + "'";
  return std::nullopt;
}

// --get and --get-list: the paths, where their responses go, how many at once.
bool set_requests(const Options& o, Config& config, std::string& error) {
  std::vector<std::string> raw = o.get;
  if (was_given(o, "--get-list")) {
    if (auto problem = check_readable_file("--get-list", o.get_list)) {
      error = *problem;
      return false;
    }
    if (auto problem = read_request_list(o.get_list, raw)) {
      error = *problem;
      return false;
    }
    if (raw.empty()) {
      error = "--get-list '" + o.get_list + "' lists no path";
      return false;
    }
  }
  std::set<std::string> names;
  for (const auto& text : raw) {
    auto path = parse_request_path(text, error);
    if (!path) return false;
    if (was_given(o, "--output-dir")) {
      auto name = response_file_name(*path, error);
      if (!name) return false;
      if (!names.insert(*name).second) {
        error = "two requests would be saved as '" + *name + "' in --output-dir";
        return false;
      }
    }
    config.requests.push_back(*path);
  }
  if (config.requests.size() > 1 && !was_given(o, "--output-dir")) {
    error = std::to_string(config.requests.size()) +
            " requests need --output-dir (stdout or --output takes one response)";
    return false;
  }
  if (was_given(o, "--max-streams")) {
    uint64_t k = 0;
    auto [ptr, ec] = std::from_chars(o.max_streams.data(), o.max_streams.data() + o.max_streams.size(), k);
    if (ec != std::errc() || ptr != o.max_streams.data() + o.max_streams.size() || k == 0 ||
        k > 1'000'000) {
      error = "invalid --max-streams '" + o.max_streams + "': expected 1 to 1000000";
      return false;
    }
    config.max_streams = k;
  }
  config.output_dir = o.output_dir;
  config.output_file = o.output;
  return true;
}

// --perf as a client: each request stream's upload and download, how many at once, how long.
bool set_perf_client(const Options& o, Config& config, std::string& error) {
  if (!o.perf || config.role != Role::client) return true;
  Config::PerfClient perf;
  bool sized = was_given(o, "--upload") || was_given(o, "--download");
  std::string download = sized ? o.download : "100M";
  for (auto [option, text, value] : {std::tuple{"--upload", o.upload, &perf.upload},
                                     std::tuple{"--download", download, &perf.download}}) {
    if (text.empty()) continue;
    auto size = parse_size(text, error);
    if (!size) {
      error = std::string(option) + ": " + error;
      return false;
    }
    *value = *size;
  }
  if (!o.streams.empty()) {
    uint64_t k = 0;
    auto [ptr, ec] = std::from_chars(o.streams.data(), o.streams.data() + o.streams.size(), k);
    if (ec != std::errc() || ptr != o.streams.data() + o.streams.size() || k == 0 || k > 1000) {
      error = "invalid --streams '" + o.streams + "': expected 1 to 1000";
      return false;
    }
    perf.streams = k;
  }
  if (!o.duration.empty()) {
    auto d = parse_duration(o.duration, error);
    if (!d || d->count() <= 0) {
      error = "--duration: " + (d ? std::string("expected more than 0") : error);
      return false;
    }
    perf.duration = *d;
  }
  config.perf_client = perf;
  return true;
}

bool set_peer_streams(std::string_view text, Config& config, std::string& error) {
  if (text == "ignore") {
    config.peer_streams = PeerStreams::ignore;
  } else if (text == "accept") {
    config.peer_streams = PeerStreams::accept;
  } else if (text == "reject") {
    config.peer_streams = PeerStreams::reject;
  } else if (text.starts_with("reject:") && text.size() > 7) {
    auto code = parse_error_code(text.substr(7), error);
    if (!code) {
      error = "--peer-streams: " + error;
      return false;
    }
    config.peer_streams = PeerStreams::reject;
    config.peer_stream_reject_code = *code;
  } else {
    error = "invalid --peer-streams '" + std::string(text) +
            "': expected accept, reject[:CODE] or ignore";
    return false;
  }
  return true;
}

// --count, --parallel, --interval, --retry, --retry-delay; --max-conns (a listener's).
bool set_count(const Options& o, Config& config, std::string& error) {
  auto number = [&](std::string_view option, const std::string& text, uint64_t max,
                    uint64_t& out) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec == std::errc() && ptr == text.data() + text.size() && out >= 1 && out <= max)
      return true;
    error = "invalid " + std::string(option) + " '" + text + "': expected 1 to " + std::to_string(max);
    return false;
  };
  uint64_t parallel = 1;
  if (!number("--count", o.count, 1'000'000, config.count) ||
      !number("--parallel", o.parallel, 100, parallel) ||
      !number("--max-conns", o.max_conns, 100'000, config.max_conns))
    return false;
  config.parallel = static_cast<unsigned>(parallel);
  if (was_given(o, "--interval")) {
    auto d = parse_duration(o.interval, error);
    if (!d) {
      error = "--interval: " + error;
      return false;
    }
    config.interval = *d;
  }
  if (was_given(o, "--retry")) {
    uint64_t retry = 0;
    auto [ptr, ec] = std::from_chars(o.retry.data(), o.retry.data() + o.retry.size(), retry);
    if (o.retry.empty() || ec != std::errc() || ptr != o.retry.data() + o.retry.size() ||
        retry > 1000) {
      error = "invalid --retry '" + o.retry + "': expected 0 to 1000";
      return false;
    }
    config.retry = static_cast<unsigned>(retry);
  }
  if (was_given(o, "--retry-delay")) {
    if (!was_given(o, "--retry")) {
      error = "--retry-delay needs --retry";
      return false;
    }
    auto d = parse_duration(o.retry_delay, error);
    if (!d) {
      error = "--retry-delay: " + error;
      return false;
    }
    config.retry_delay = *d;
  }
  if (config.count == 1) {
    for (std::string_view option : {"--parallel", "--interval"})
      if (was_given(o, option)) {
        error = std::string(option) + " needs --count";
        return false;
      }
    return true;
  }
  // Each connection is a pipe of its own: requests and a session file are one connection's.
  for (std::string_view option : {"--get", "--get-list", "--session-out", "--check"})
    if (was_given(o, option)) {
      error = std::string(option) + " does not go with --count (it is one connection's)";
      return false;
    }
  return true;
}

// The listener's service: pipe unless --echo, --serve, --sink, --source or --perf.
bool set_service(const Options& o, Config& config, std::string& error) {
  if (o.echo) config.service = Service::echo;
  if (o.perf && config.role == Role::listener) config.service = Service::perf;
  if (was_given(o, "--sink")) config.service = Service::sink;
  if (was_given(o, "--serve")) {
    if (auto problem = check_readable_directory("--serve", o.serve)) {
      error = *problem;
      return false;
    }
    config.service = Service::serve;
    config.serve_dir = o.serve;
  }
  if (was_given(o, "--source")) {
    auto size = parse_size(o.source, error);
    if (!size) {
      error = "--source: " + error;
      return false;
    }
    config.service = Service::source;
    config.source_size = *size;
  }
  config.keep_open = o.keep_open;
  // A pipe listener with --keep-open saves the streams of many clients, whose ids repeat.
  if (config.keep_open && config.service == Service::pipe && !o.output_dir.empty()) {
    error = "--output-dir does not apply to a pipe listener with --keep-open (its clients' "
            "stream ids repeat)";
    return false;
  }
  return true;
}

// Every file the run will open, checked now so that a bad path is a usage error before any
// network activity. SSLKEYLOGFILE and QLOGDIR are settled here too, so that core/ sees only
// Config fields.
std::optional<std::string> check_paths(const Options& o, Config& config) {
  using Check = std::optional<std::string> (*)(std::string_view, const std::string&);
  struct PathOption {
    std::string_view option;
    const std::string& path;
    Check check;
  };
  const PathOption paths[] = {
      {"--cafile", o.cafile, check_readable_file},
      {"--capath", o.capath, check_readable_directory},
      {"--cert", o.cert, check_readable_file},
      {"--key", o.key, check_readable_file},
      {"--session-in", o.session_in, check_readable_file},
      {"--session-out", o.session_out, check_writable_file},
      {"--json-file", o.json_file, check_writable_file},
      {"--keylog", o.keylog, check_writable_file},
      {"--log-file", o.log_file, check_writable_file},
      {"--qlog-dir", o.qlog_dir, check_writable_directory},
      {"--output", o.output, check_writable_file},
      {"--output-dir", o.output_dir, check_writable_directory},
  };
  for (const auto& p : paths)
    if (was_given(o, p.option) && !(p.option == "--json-file" && p.path == "-"))  // stdout
      if (auto problem = p.check(p.option, p.path)) return problem;

  config.keylog_file = o.keylog;
  if (!was_given(o, "--keylog")) {
    std::string keylog = environment("SSLKEYLOGFILE");
    if (!keylog.empty())
      if (auto problem = check_writable_file("SSLKEYLOGFILE", keylog)) return problem;
#ifdef OPENSSL_NO_SSLKEYLOG
    // This libssl cannot honour SSLKEYLOGFILE by itself; our key log callback can.
    config.keylog_file = keylog;
#endif
  }
  // OpenSSL reads QLOGDIR itself; the engine sets it from qlog_dir.
  config.qlog_dir = o.qlog_dir;
  if (!was_given(o, "--qlog-dir")) {
    config.qlog_dir = environment("QLOGDIR");
    if (!config.qlog_dir.empty())
      if (auto problem = check_writable_directory("QLOGDIR", config.qlog_dir)) return problem;
  }
  return std::nullopt;
}

// A deadline option: empty leaves `field` alone; otherwise a positive duration.
bool set_deadline(const std::string& text, std::string_view name,
                  std::chrono::milliseconds& field, std::string& error) {
  auto d = parse_duration(text, error);
  if (d && d->count() <= 0) error = "must be positive";
  if (!d || d->count() <= 0) {
    error = std::string(name) + ": " + error;
    return false;
  }
  field = *d;
  return true;
}

bool set_eof_policy(std::string_view eof, Config& config, std::string& error) {
  if (eof == "fin") {
    config.on_eof = EofPolicy::fin;
  } else if (eof == "close") {
    config.on_eof = EofPolicy::close;
  } else if (eof == "ignore") {
    config.on_eof = EofPolicy::ignore;
  } else if (eof == "reset") {
    config.on_eof = EofPolicy::reset;
    config.eof_reset_code = 0;
  } else if (eof.starts_with("reset:")) {
    // "reset:" with nothing after it is more likely a lost code than a wish for code 0.
    if (eof.size() == 6) {
      error = "invalid --on-eof 'reset:': missing CODE after the colon (plain 'reset' means "
              "code 0)";
      return false;
    }
    auto code = parse_error_code(eof.substr(6), error);
    if (!code) {
      error = "--on-eof: " + error;
      return false;
    }
    config.on_eof = EofPolicy::reset;
    config.eof_reset_code = *code;
  } else {
    error = "invalid --on-eof '" + std::string(eof) +
            "': expected fin, close, ignore or reset[:CODE]";
    return false;
  }
  return true;
}

}  // namespace

std::optional<Config> build_config(const Options& o, std::string& error) {
  Config config;
  RunMode mode = run_mode_of(o);
  if (auto problem = check_combinations(o, mode)) {
    error = *problem;
    return std::nullopt;
  }

  bool listening = mode != RunMode::client;
  if (auto url = url_target_error(listening ? o.listen : o.target)) {
    error = *url;
    return std::nullopt;
  }
  std::optional<Endpoint> endpoint =
      listening ? parse_listen_endpoint(o.listen, error) : parse_endpoint(o.target, error);
  if (!endpoint) return std::nullopt;
  config.role = listening ? Role::listener : Role::client;
  config.endpoint = *endpoint;

  auto alpn = parse_alpn_list(o.alpn, error);
  if (!alpn) return std::nullopt;
  config.alpn = *alpn;
  // HTTP/0.9 over QUIC speaks hq-interop, as the interop runner's endpoints do.
  bool http09 = was_given(o, "--get") || was_given(o, "--get-list") || was_given(o, "--serve");
  if (http09 && !was_given(o, "--alpn")) config.alpn = {"hq-interop"};
  if (o.perf && !was_given(o, "--alpn")) config.alpn = {std::string(perf_alpn)};

  if (!o.pin_sha256.empty()) {
    auto pin = parse_pin(o.pin_sha256, error);
    if (!pin) return std::nullopt;
    config.pin_sha256 = *pin;
  }
  if (!set_deadline(o.connect_timeout, "--connect-timeout", config.connect_timeout, error))
    return std::nullopt;
  if (!o.timeout.empty() && !set_deadline(o.timeout, "--timeout", config.timeout, error))
    return std::nullopt;
  if (!o.idle_exit.empty() && !set_deadline(o.idle_exit, "--idle-exit", config.idle_exit, error))
    return std::nullopt;

  if (!set_eof_policy(o.on_eof, config, error)) return std::nullopt;
  if (o.shutdown != "graceful" && o.shutdown != "rapid" && o.shutdown != "full") {
    error = "invalid --shutdown '" + o.shutdown + "': expected graceful, full or rapid";
    return std::nullopt;
  }
  config.shutdown.rapid = o.shutdown == "rapid";
  // Only a client leaves without the closing period. A listener that closes first stays for
  // it: its client may still be sending, and a port that closed answers with ICMP, which
  // Linux reports on the client's connected socket before the CONNECTION_CLOSE queued there
  // (seen: a client of an interrupted listener said "network error" instead of "the peer
  // closed the connection (0x1)"). A --keep-open listener's socket outlives each connection
  // anyway, as RFC 9000 10.2 expects of an endpoint that cannot close its socket.
  config.shutdown.closing_period = o.shutdown == "full" || config.role == Role::listener;
  config.shutdown.no_stream_flush = o.no_stream_flush;
  config.shutdown.wait_peer = o.wait_peer;
  auto code = parse_error_code(o.close_code, error);
  if (!code) {
    error = "--close-code: " + error;
    return std::nullopt;
  }
  config.shutdown.error_code = *code;
  config.shutdown.reason = o.close_reason;
  config.partial_write = o.partial_write;
  config.moving_buffer = o.moving_buffer;

  if (!o.connect_to.empty()) {
    // ADDR or ADDR:PORT; a bare address keeps the target's port.
    auto ep = parse_listen_endpoint(o.connect_to, error);
    if (!ep || ep->host.empty()) {
      // parse_listen_endpoint reads a bare word as a port: try it as an address.
      if (o.connect_to.find_first_of(":[]") == std::string::npos) {
        ep = Endpoint{o.connect_to, 0, false};
        error.clear();
      } else {
        error = "invalid --connect-to '" + o.connect_to + "': expected ADDR or ADDR:PORT" +
                (ep ? "" : " (" + error + ")");
        return std::nullopt;
      }
    }
    config.connect_to = *ep;
  }
  config.address_family = o.ipv4 ? AF_INET : o.ipv6 ? AF_INET6 : 0;
  config.sni = o.sni;
  config.no_sni = o.no_sni;
  if (!o.idle_timeout.empty()) {
    auto d = parse_duration(o.idle_timeout, error);
    if (!d) {
      error = "--idle-timeout: " + error;
      return std::nullopt;
    }
    config.idle_timeout = *d;
  }
  config.session_in = o.session_in;
  config.session_out = o.session_out;
  if (!o.key_update.empty()) {
    auto bytes = parse_size(o.key_update, error);
    if (!bytes) {
      error = "--key-update: " + error;
      return std::nullopt;
    }
    config.key_update_after = *bytes;
  }
  config.capath = o.capath;
  config.insecure = o.insecure;
  config.require_client_cert = o.require_client_cert;
  config.ciphersuites = o.ciphersuites;
  config.groups = o.groups;
  config.cafile = o.cafile;
  config.cert_file = o.cert;
  config.key_file = o.key;
  if (!set_service(o, config, error)) return std::nullopt;
  if (!set_peer_streams(o.peer_streams, config, error)) return std::nullopt;
  config.check = o.check;
  config.crlf = o.crlf;
  if (!set_warn_days(o, config, error)) return std::nullopt;
  if (!set_count(o, config, error)) return std::nullopt;
  config.driver = o.blocking ? Driver::blocking : Driver::nonblocking;

  // Last, as they touch the file system and OpenSSL: everything cheaper has passed.
  if (auto problem = check_paths(o, config)) {
    error = *problem;
    return std::nullopt;
  }
  if (!set_requests(o, config, error)) return std::nullopt;
  if (!set_perf_client(o, config, error)) return std::nullopt;
  if (!set_scripted_checks(o, config, error)) return std::nullopt;
  if (!set_direction(o, config, error)) return std::nullopt;
  if (!set_interactive(o, config, error)) return std::nullopt;
  if (!set_progress(o, config, error)) return std::nullopt;
  if (Outcome tls = check_tls_lists(config); !tls.ok()) {
    error = tls.message;
    return std::nullopt;
  }
  return config;
}

}  // namespace quicc::cli
