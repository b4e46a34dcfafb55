#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/opensslconf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "cli/config_builder.hpp"
#include "cli/options.hpp"
#include "cli/role_rules.hpp"

using namespace quicc;
using namespace std::chrono_literals;

TEST_CASE("cli::parse_duration") {
  std::string error;
  CHECK(cli::parse_duration("250ms", error) == 250ms);
  CHECK(cli::parse_duration("3s", error) == 3000ms);
  CHECK(cli::parse_duration("2m", error) == 120'000ms);
  CHECK(cli::parse_duration("1.5", error) == 1500ms);
  for (const char* bad : {"", "s", "3x", "-1", "1..2", "ms"}) {
    CAPTURE(bad);
    CHECK_FALSE(cli::parse_duration(bad, error));
    CHECK(error.find("invalid duration") != std::string::npos);
  }
}

TEST_CASE("cli::parse_alpn_list") {
  std::string error;
  auto list = cli::parse_alpn_list("h3,hq-interop", error);
  REQUIRE(list);
  CHECK(*list == std::vector<std::string>{"h3", "hq-interop"});
  CHECK_FALSE(cli::parse_alpn_list("h3,,x", error));
  CHECK_FALSE(cli::parse_alpn_list("", error));
}

TEST_CASE("cli::parse_pin") {
  std::string error;
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += (i ? ":" : "") + std::string("AB");
  auto pin = cli::parse_pin(colons, error);
  REQUIRE(pin);
  std::string expected;
  for (int i = 0; i < 32; ++i) expected += "ab";
  CHECK(*pin == expected);
  CHECK_FALSE(cli::parse_pin("abcd", error));
  CHECK_FALSE(cli::parse_pin(std::string(64, 'g'), error));
}

TEST_CASE("cli::build_config") {
  std::string error;
  auto parse = [](std::vector<const char*> args) {
    args.insert(args.begin(), "quicc");
    return cli::parse_command_line(static_cast<int>(args.size()), args.data());
  };

  SUBCASE("client defaults") {
    auto parsed = parse({"localhost:4433"});
    REQUIRE(parsed.error.empty());
    auto config = cli::build_config(parsed.options, error);
    REQUIRE(config);
    CHECK(config->role == Role::client);
    CHECK(config->alpn == std::vector<std::string>{"quicc"});
    CHECK(config->driver == Driver::nonblocking);
    CHECK(config->connect_timeout == 10s);
  }
  SUBCASE("listener with echo and the blocking driver") {
    auto parsed = parse({"--listen", "0", "--echo", "--blocking", "-vv"});
    REQUIRE(parsed.error.empty());
    CHECK(parsed.options.verbose == 2);
    auto config = cli::build_config(parsed.options, error);
    REQUIRE(config);
    CHECK(config->role == Role::listener);
    CHECK(config->service == Service::echo);
    CHECK_FALSE(config->keep_open);
    CHECK(config->driver == Driver::blocking);
  }
  SUBCASE("conflicts are usage errors") {
    for (auto args : std::vector<std::vector<const char*>>{
             {},
             {"--listen", "0", "host:1"},
             {"--echo", "host:1"},
             {"--blocking", "--nonblocking", "host:1"},
             {"--cert", "c.pem", "host:1"},
             {"--connect-timeout", "soon", "host:1"},
             {"--alpn", "a,,b", "host:1"},
             {"host"}}) {
      auto parsed = parse(args);
      REQUIRE(parsed.error.empty());
      error.clear();
      CHECK_FALSE(cli::build_config(parsed.options, error));
      CHECK_FALSE(error.empty());
    }
  }
  SUBCASE("unknown options are parse errors") {
    CHECK_FALSE(parse({"--no-such-option", "host:1"}).error.empty());
    CHECK_FALSE(parse({"a:1", "b:2"}).error.empty());
  }
}

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The text with every line break and the indent after it made one space.
std::string flat(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n') {
      out += text[i];
      continue;
    }
    out += ' ';
    while (i + 1 < text.size() && text[i + 1] == ' ') ++i;
  }
  return out;
}

// "  -l, --listen [ADDR:]PORT" or "      --alpn LIST", as help shows an option.
std::string help_left(const cli::OptionSpec& spec) {
  std::string left = "  " + std::string(spec.flags);
  if (size_t comma = left.find(','); comma != std::string::npos)
    left.insert(comma + 1, " ");
  else
    left.insert(2, "    ");
  if (!spec.argument.empty()) left += " " + std::string(spec.argument);
  return left;
}

}  // namespace

TEST_CASE("cli::help_text all lists every option in the table") {
  // Each option has exactly one line of its own: its flags and argument, then its one-line
  // help, beside it or on the next line. (Finding the name anywhere would not do: "--sni" is
  // in "--no-sni", "--key" in "--key-update", "--timeout" in "--idle-timeout"...)
  std::optional<std::string> help = cli::help_text("all");
  REQUIRE(help);
  std::vector<std::string> lines = lines_of(*help);
  std::set<std::string> option_lines;
  for (const auto& spec : cli::option_table()) {
    CAPTURE(spec.flags);
    std::string left = help_left(spec);
    std::string text(spec.help);
    if (!spec.default_value.empty() && !spec.argument.empty())
      text += " (default: " + std::string(spec.default_value) + ")";
    int found = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& line = lines[i];
      if (line != left && !line.starts_with(left + " ")) continue;
      // The help beside it, or alone on the next line: the first of its wrapped lines is a
      // prefix of the whole help.
      std::string first = line.size() > left.size() ? line.substr(line.find_first_not_of(' ', left.size()))
                                                     : (i + 1 < lines.size() ? lines[i + 1] : "");
      first.erase(0, first.find_first_not_of(' '));
      if (!first.empty() && text.starts_with(first)) {
        ++found;
        option_lines.insert(line);
      }
    }
    CHECK(found == 1);
    CHECK(spec.help.size() <= 48);  // fits beside the flags in 80 columns
  }
  // And every line that starts like an option belongs to one.
  for (const auto& line : lines) {
    if (!line.starts_with("  -") && !line.starts_with("      --")) continue;
    CAPTURE(line);
    CHECK(option_lines.contains(line));
  }
  CHECK(help->find("Exit codes:") != std::string::npos);
}

TEST_CASE("cli::help_text: the short help, categories, 80 columns") {
  std::vector<std::string> topics{"", "all"};
  for (cli::Category c : cli::categories()) topics.emplace_back(cli::category_key(c));
  for (const auto& topic : topics) {
    CAPTURE(topic);
    std::optional<std::string> help = cli::help_text(topic);
    REQUIRE(help);
    CHECK(help->starts_with("Usage: quicc [OPTIONS] HOST:PORT\n"));
    for (const auto& line : lines_of(*help)) {
      CAPTURE(line);
      CHECK(line.size() <= 80);
    }
  }
  // The short help: the essential options only, then where the rest is, then examples.
  std::string brief = *cli::help_text("");
  for (const auto& spec : cli::option_table()) {
    CAPTURE(spec.flags);
    bool shown = false;
    for (const auto& line : lines_of(brief))
      if (line == help_left(spec) || line.starts_with(help_left(spec) + " ")) shown = true;
    CHECK(shown == (spec.level == cli::Level::essential));
  }
  CHECK(brief.find("quicc --help all") != std::string::npos);
  CHECK(brief.find("\nExamples:\n") != std::string::npos);
  // The target, trust and ALPN come before the listener's options.
  CHECK(brief.find("      --alpn") < brief.find("  -l, --listen"));
  CHECK(brief.find("  -k, --insecure") < brief.find("  -l, --listen"));
  // A category in full: the whole description of each of its options.
  std::string ending = *cli::help_text("ending");
  CHECK(ending.find("--on-eof MODE") != std::string::npos);
  CHECK(flat(ending).find("reset[:CODE] (reset the stream with CODE, then close)") !=
        std::string::npos);
  CHECK(ending.find("--alpn") == std::string::npos);
  // The OpenSSL write modes are in the advanced group.
  std::string advanced = *cli::help_text("advanced");
  CHECK(advanced.find("--partial-write") != std::string::npos);
  CHECK(advanced.find("--moving-buffer") != std::string::npos);
  CHECK_FALSE(cli::help_text("nosuch"));
  CHECK(cli::unknown_help_topic("x").starts_with("unknown help topic 'x': try connection, "));
}

TEST_CASE("cli::parse_command_line: --help takes an optional topic") {
  auto parse = [](std::vector<const char*> args) {
    args.insert(args.begin(), "quicc");
    return cli::parse_command_line(static_cast<int>(args.size()), args.data());
  };
  cli::ParseResult plain = parse({"--help"});
  CHECK(plain.error.empty());
  CHECK(plain.options.given.contains("--help"));
  CHECK(plain.options.help.empty());
  cli::ParseResult all = parse({"--help", "all"});
  CHECK(all.error.empty());
  CHECK(all.options.help == "all");
  CHECK(parse({"-h", "security"}).options.help == "security");
  CHECK_FALSE(parse({"host:1"}).options.given.contains("--help"));
}

TEST_CASE("cli::parse_size and cli::parse_error_code") {
  std::string error;
  CHECK(cli::parse_size("0", error) == 0u);
  CHECK(cli::parse_size("1500", error) == 1500u);
  CHECK(cli::parse_size("64K", error) == 65536u);
  CHECK(cli::parse_size("10m", error) == 10u * 1024 * 1024);
  for (const char* bad : {"", "K", "1.5M", "-1", "12Q"}) {
    CAPTURE(bad);
    CHECK_FALSE(cli::parse_size(bad, error));
  }
  CHECK(cli::parse_error_code("0", error) == 0u);
  CHECK(cli::parse_error_code("256", error) == 256u);
  CHECK(cli::parse_error_code("0x100", error) == 256u);
  CHECK(cli::parse_error_code("0x3fffffffffffffff", error) == (uint64_t{1} << 62) - 1);
  for (const char* bad : {"", "0x", "x10", "0x4000000000000000", "12a"}) {
    CAPTURE(bad);
    CHECK_FALSE(cli::parse_error_code(bad, error));
  }
}

TEST_CASE("cli::build_config: lifecycle and TLS options") {
  std::string error;
  auto build = [&](std::vector<const char*> args) {
    args.insert(args.begin(), "quicc");
    auto parsed = cli::parse_command_line(static_cast<int>(args.size()), args.data());
    REQUIRE(parsed.error.empty());
    error.clear();
    return cli::build_config(parsed.options, error);
  };
  auto c = build({"--on-eof", "reset:0x7", "--shutdown", "rapid", "--close-code", "66",
                  "--close-reason", "bye", "--timeout", "3s", "--idle-exit", "500ms",
                  "--partial-write", "--moving-buffer", "--key-update", "1M", "--connect-to",
                  "127.0.0.1", "-6", "h:1"});
  REQUIRE(c);
  CHECK(c->on_eof == EofPolicy::reset);
  CHECK(c->eof_reset_code == 7u);
  CHECK(c->shutdown.rapid);
  CHECK(c->shutdown.error_code == 66u);
  CHECK(c->shutdown.reason == "bye");
  CHECK(c->timeout == 3s);
  CHECK(c->idle_exit == 500ms);
  CHECK(c->partial_write);
  CHECK(c->moving_buffer);
  CHECK(c->key_update_after == 1024u * 1024);
  REQUIRE(c->connect_to);
  CHECK(c->connect_to->host == "127.0.0.1");
  CHECK(c->connect_to->port == 0);

  c = build({"--connect-to", "[::1]:9", "h:1"});
  REQUIRE(c);
  CHECK(c->connect_to->host == "::1");
  CHECK(c->connect_to->port == 9);

  const std::string pin(64, 'a');
  for (auto args : std::vector<std::vector<const char*>>{
           {"--on-eof", "later", "h:1"},
           {"--on-eof", "reset:x", "h:1"},
           {"--shutdown", "slow", "h:1"},
           {"--close-code", "-1", "h:1"},
           {"--key-update", "soon", "h:1"},
           {"-4", "-6", "h:1"},
           {"--listen", "0", "--pin-sha256", pin.c_str()},
           {"--listen", "0", "--require-client-cert"},
           {"--require-client-cert", "h:1"}}) {
    CHECK_FALSE(build(args));
    CHECK_FALSE(error.empty());
  }
}

// ---------------------------------------------------------------------------------------------
// Validation before any network activity: which options each mode accepts, files, TLS lists.

namespace {

// A directory under /tmp for the duration of a test, removed with everything in it.
struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/quicc-unit-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name, const std::string& contents) const {
    std::string p = path + "/" + name;
    std::ofstream(p) << contents;
    return p;
  }
};

// Unsets SSLKEYLOGFILE and QLOGDIR for the test (the caller's environment must not decide its
// outcome), and restores them afterwards.
struct CleanEnvironment {
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  CleanEnvironment() {
    for (const char* name : {"SSLKEYLOGFILE", "QLOGDIR"}) {
      const char* value = std::getenv(name);
      saved.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(name);
    }
  }
  ~CleanEnvironment() {
    for (const auto& [name, value] : saved)
      if (value) ::setenv(name.c_str(), value->c_str(), 1);
      else ::unsetenv(name.c_str());
  }
};

struct Built {
  std::optional<Config> config;
  std::string error;
};

Built build(std::vector<std::string> args) {
  args.insert(args.begin(), "quicc");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  auto parsed = cli::parse_command_line(static_cast<int>(argv.size()), argv.data());
  REQUIRE_MESSAGE(parsed.error.empty(), parsed.error);
  Built b;
  b.config = cli::build_config(parsed.options, b.error);
  if (b.config) CHECK(b.error.empty());
  else CHECK_FALSE(b.error.empty());
  CHECK(b.error.find('\n') == std::string::npos);
  return b;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> mode_arguments(cli::RunMode mode) {
  switch (mode) {
    case cli::RunMode::client: return {"localhost:4433"};
    case cli::RunMode::pipe_listener: return {"--listen", "127.0.0.1:0"};
    case cli::RunMode::service_listener: return {"--listen", "127.0.0.1:0", "--echo"};
  }
  return {};
}

// A valid argument for every option that takes one (long name -> argument).
std::map<std::string, std::string> sample_arguments(const TempDir& dir) {
  std::string readable = dir.file("readable.pem", "not PEM: only readability is checked\n");
  return {
      {"--alpn", "h3"},
      {"--help", "all"},
      {"--sni", "example.org"},
      {"--connect-to", "127.0.0.1"},
      {"--idle-timeout", "5s"},
      {"--session-out", dir.path + "/session.pem"},
      {"--session-in", readable},
      {"--key-update", "1M"},
      {"--connect-timeout", "3s"},
      {"--timeout", "3s"},
      {"--idle-exit", "3s"},
      {"--on-eof", "close"},
      {"--shutdown", "rapid"},
      {"--close-code", "7"},
      {"--close-reason", "bye"},
      {"--cafile", readable},
      {"--capath", dir.path},
      {"--ciphersuites", "TLS_AES_128_GCM_SHA256"},
      {"--groups", "X25519"},
      {"--pin-sha256", std::string(64, 'a')},
      {"--cert", readable},
      {"--key", readable},
      {"--keylog", dir.path + "/keys.txt"},
      {"--qlog-dir", dir.path},
      {"--json-file", dir.path + "/summary.json"},
      {"--write-out", "%{alpn}"},
      {"--count", "2"},
      {"--parallel", "2"},
      {"--max-conns", "5"},
      {"--interval", "1s"},
      {"--log-format", "json"},
      {"--log-file", dir.path + "/log.txt"},
      {"--serve", dir.path},
      {"--source", "1M"},
      {"--get", "/index.html"},
      {"--get-list", dir.file("paths.txt", "/a\n/b\n")},
      {"--max-streams", "4"},
      {"--upload", "1M"},
      {"--download", "2M"},
      {"--streams", "3"},
      {"--duration", "2s"},
      {"--output-dir", dir.path},
      {"--output", dir.path + "/response"},
      {"--peer-streams", "reject:7"},
      {"--warn-days", "30"},
      {"--retry", "2"},
      {"--retry-delay", "250ms"},
      {"--send", "hello\\r\\n"},
      {"--send-file", readable},
      {"--expect", "^hello$"},
  };
}

// Options that need another one to be valid at all, whatever the mode.
const std::map<std::string, std::string> companion = {
    {"--cert", "--key"},          {"--key", "--cert"},         {"--require-client-cert", "--cafile"},
    {"--max-streams", "--get"},   {"--output", "--get"},       {"--get-list", "--output-dir"},
    {"--keep-open", "--echo"},    {"--parallel", "--count"},   {"--interval", "--count"},
    {"--expect-close", "--expect"}, {"--retry-delay", "--retry"},
    {"--upload", "--perf"},       {"--download", "--perf"},    {"--streams", "--perf"},
    {"--duration", "--perf"}};

}  // namespace

TEST_CASE("cli::role_rules: every option in every mode, as the table says") {
  CleanEnvironment env;
  TempDir dir;
  auto samples = sample_arguments(dir);
  const cli::RunMode modes[] = {cli::RunMode::client, cli::RunMode::pipe_listener,
                                cli::RunMode::service_listener};

  // The table names real options only.
  for (const auto& rule : cli::role_rules()) {
    CAPTURE(rule.option);
    bool found = false;
    for (const auto& spec : cli::option_table())
      found = found || cli::long_name(spec) == rule.option;
    CHECK(found);
  }

  for (const auto& spec : cli::option_table()) {
    std::string name(cli::long_name(spec));
    if (name == "--listen") continue;  // it chooses the mode
    bool takes_argument = !spec.argument.empty();
    REQUIRE_MESSAGE((!takes_argument || samples.contains(name)), "no sample argument for " << name);
    const cli::RoleRule* rule = cli::role_rule(name);
    for (cli::RunMode mode : modes) {
      CAPTURE(name);
      CAPTURE(cli::run_mode_name(mode));
      std::vector<std::string> args = mode_arguments(mode);
      // A service option makes the service listener itself (they exclude each other).
      bool service = std::find(std::begin(cli::service_options), std::end(cli::service_options),
                               name) != std::end(cli::service_options);
      if (service && mode == cli::RunMode::service_listener) args = {"--listen", "127.0.0.1:0"};
      auto add = [&](const std::string& option) {
        if (std::find(args.begin(), args.end(), option) != args.end()) return;
        args.push_back(option);
        if (samples.contains(option)) args.push_back(samples[option]);
      };
      add(name);
      // A companion only where the option itself applies: refused there, it would be refused
      // itself first (the rules are checked in table order).
      if (companion.contains(name) && (!rule || rule->allows(mode))) add(companion.at(name));

      bool listener = mode != cli::RunMode::client;
      bool allowed = !rule || rule->allows(mode);
      bool needs_more = allowed && listener && rule && !rule->listener_needs.empty();
      Built b = build(args);
      if (!allowed) {
        CHECK_FALSE(b.config);
        CHECK(b.error.starts_with(name + " does not apply to "));
        CHECK(contains(b.error, "(" + std::string(rule->why) + ")"));
      } else if (needs_more) {
        CHECK_FALSE(b.config);
        CHECK(b.error == name + " on a listener is used only with " +
                             std::string(rule->listener_needs));
        add(std::string(rule->listener_needs));
        Built with = build(args);
        CHECK_MESSAGE(with.config, with.error);
      } else {
        CHECK_MESSAGE(b.config, b.error);
      }
    }
  }
}

TEST_CASE("cli::build_config: requests (--get, --get-list) and where their responses go") {
  CleanEnvironment env;
  TempDir dir;
  SUBCASE("one path, slash added, ALPN hq-interop unless --alpn") {
    Built b = build({"--get", "index.html", "h:1"});
    REQUIRE_MESSAGE(b.config, b.error);
    CHECK(b.config->requests == std::vector<std::string>{"/index.html"});
    CHECK(b.config->alpn == std::vector<std::string>{"hq-interop"});
    CHECK(b.config->max_streams == 0);
    Built h3 = build({"--get", "/x", "--alpn", "h3", "h:1"});
    REQUIRE(h3.config);
    CHECK(h3.config->alpn == std::vector<std::string>{"h3"});
  }
  SUBCASE("--get repeated and --get-list add up, in order; the target stays the target") {
    std::string list = dir.file("list.txt", "/m/1\r\n\nm/2\n");
    Built b = build({"--get", "/a", "--get-list", list.c_str(), "--get", "b", "--output-dir",
                     dir.path.c_str(), "--max-streams", "3", "h:1"});
    REQUIRE_MESSAGE(b.config, b.error);
    CHECK(b.config->requests == std::vector<std::string>{"/a", "/b", "/m/1", "/m/2"});
    CHECK(b.config->max_streams == 3);
    CHECK(b.config->endpoint.host == "h");
    CHECK(b.config->output_dir == dir.path);
  }
  SUBCASE("refusals, one line each") {
    std::string empty = dir.file("empty.txt", "\n");
    std::string out = dir.path.c_str();
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"--get", "/a", "--get", "/b", "h:1"},
         "2 requests need --output-dir (stdout or --output takes one response)"},
        {{"--get", "/a", "--get", "/b", "-o", out + "/f", "h:1"},
         "2 requests need --output-dir (stdout or --output takes one response)"},
        {{"--get", "/a b", "h:1"},
         "invalid request path '/a b': no spaces or control characters (they would end the "
         "request line)"},
        {{"--get", "/dir/", "--output-dir", out, "h:1"},
         "request path '/dir/' names no file to save the response as (--output-dir uses its "
         "last component)"},
        {{"--get", "/..", "--output-dir", out, "h:1"},
         "request path '/..' names no file to save the response as (--output-dir uses its "
         "last component)"},
        {{"--get", "/a/x", "--get", "/b/x", "--output-dir", out, "h:1"},
         "two requests would be saved as 'x' in --output-dir"},
        {{"--max-streams", "2", "h:1"}, "--max-streams needs --get or --get-list"},
        {{"--get", "/a", "--max-streams", "0", "h:1"},
         "invalid --max-streams '0': expected 1 to 1000000"},
        {{"--get", "/a", "-o", out + "/f", "--output-dir", out, "h:1"},
         "--output and --output-dir exclude each other"},
        {{"--get-list", empty, "h:1"}, "--get-list '" + empty + "' lists no path"},
        {{"--get", "/a", "h:1", "--peer-streams", "reject:x"},
         "--peer-streams: invalid error code 'x' (decimal or 0x hex, below 2^62)"},
        {{"--peer-streams", "drop", "h:1"},
         "invalid --peer-streams 'drop': expected accept, reject[:CODE] or ignore"},
        {{"--count", "0", "h:1"}, "invalid --count '0': expected 1 to 1000000"},
        {{"--count", "2", "--parallel", "101", "h:1"}, "invalid --parallel '101': expected 1 to 100"},
        {{"--parallel", "2", "h:1"}, "--parallel needs --count"},
        {{"--listen", "0", "--max-conns", "0"}, "invalid --max-conns '0': expected 1 to 100000"},
        {{"--listen", "0", "--max-conns", "1e3"}, "invalid --max-conns '1e3': expected 1 to 100000"},
        {{"--count", "2", "--interval", "soon", "h:1"},
         "--interval: invalid duration 'soon' (examples: 250ms, 3s, 2m)"},
        {{"--count", "2", "--get", "/a", "h:1"}, "--get does not go with --count (it is one connection's)"},
        {{"--listen", "0", "--echo", "--sink"},
         "--echo, --serve, --sink, --source and --perf exclude each other"},
        {{"--listen", "0", "--source", "lots"},
         "--source: invalid size 'lots' (examples: 0, 1500, 64K, 10M)"},
        {{"--keep-open", "h:1"},
         "--keep-open does not apply to a client (it makes a listener serve many connections)"},
        {{"--listen", "0", "--keep-open", "--output-dir", "/tmp"},
         "--output-dir does not apply to a pipe listener with --keep-open (its clients' stream "
         "ids repeat)"},
        {{"--listen", "0", "--sink", "--get", "/a"},
         "--get does not apply to a listener (only a client makes requests)"},
        // Terminal sessions and the meter are a pipe's, of one connection.
        {{"--interactive", "--no-interactive", "h:1"},
         "--interactive and --no-interactive exclude each other"},
        {{"--interactive", "--get", "/a", "h:1"},
         "--interactive does not go with --get (a terminal session is the pipe of one connection)"},
        {{"--interactive", "--check", "h:1"},
         "--interactive does not go with --check (a terminal session is the pipe of one connection)"},
        {{"--interactive", "--send", "x", "h:1"},
         "--interactive does not go with --send (a terminal session is the pipe of one connection)"},
        {{"--interactive", "--count", "2", "h:1"},
         "--interactive does not go with --count (a terminal session is the pipe of one connection)"},
        {{"--listen", "0", "--interactive", "--keep-open"},
         "--interactive does not go with --keep-open (a terminal session is the pipe of one "
         "connection)"},
        {{"--progress", "--no-progress", "h:1"}, "--progress and --no-progress exclude each other"},
        {{"--send-only", "--recv-only", "h:1"}, "--send-only and --recv-only exclude each other"},
        {{"--sni", "x", "--no-sni", "h:1"}, "--sni and --no-sni exclude each other"},
        {{"--send-only", "--expect", "x", "h:1"}, "--send-only does not go with --expect"},
        {{"--recv-only", "--send", "x", "h:1"}, "--recv-only does not go with --send"},
        {{"--recv-only", "--interactive", "h:1"}, "--recv-only does not go with --interactive"},
        {{"--recv-only", "--get", "/a", "h:1"}, "--recv-only does not go with --get"},
        {{"--progress", "--count", "2", "h:1"},
         "--progress does not go with --count (the meter is a pipe's or --get's)"},
        {{"--listen", "0", "--progress", "--keep-open"},
         "--progress does not go with --keep-open (the meter is a pipe's or --get's)"},
        {{"--progress", "--check", "h:1"},
         "--progress does not go with --check (the meter is a pipe's or --get's)"},
    };
    for (const auto& [args, message] : cases) {
      CAPTURE(args.front());
      Built b = build(args);
      CHECK_FALSE(b.config);
      CHECK(b.error == message);
    }
  }
  SUBCASE("terminal sessions and the meter") {
    Built t = build({"--interactive", "h:1"});
    REQUIRE_MESSAGE(t.config, t.error);
    CHECK(t.config->interactive);
    CHECK(t.config->peer_streams == PeerStreams::accept);  // shown, as a person expects
    Built r = build({"--interactive", "--peer-streams", "reject", "h:1"});
    REQUIRE(r.config);
    CHECK(r.config->peer_streams == PeerStreams::reject);
    Built p = build({"--progress", "h:1"});
    REQUIRE(p.config);
    CHECK(p.config->progress);
    Built g = build({"--progress", "--get", "/a", "h:1"});  // a download has one too
    REQUIRE_MESSAGE(g.config, g.error);
    CHECK(g.config->progress);
    Built v = build({"--progress", "-v", "h:1"});  // the log wins
    REQUIRE(v.config);
    CHECK_FALSE(v.config->progress);
    Built so = build({"--send-only", "h:1"});
    REQUIRE(so.config);
    CHECK(so.config->output_fd > 2);  // /dev/null: what the peer sends is discarded
    CHECK(so.config->on_eof == EofPolicy::close);
    Built sf = build({"--send-only", "--on-eof", "fin", "h:1"});
    REQUIRE(sf.config);
    CHECK(sf.config->on_eof == EofPolicy::fin);
    Built ro = build({"--recv-only", "h:1"});
    REQUIRE(ro.config);
    CHECK(ro.config->input_fd == -1);
    CHECK_FALSE(ro.config->interactive);
    Built n = build({"--no-interactive", "--no-progress", "h:1"});
    REQUIRE(n.config);
    CHECK_FALSE(n.config->interactive);
    CHECK_FALSE(n.config->progress);
  }
  SUBCASE("services") {
    Built serve = build({"--listen", "0", "--serve", dir.path.c_str(), "--keep-open"});
    REQUIRE_MESSAGE(serve.config, serve.error);
    CHECK(serve.config->service == Service::serve);
    CHECK(serve.config->serve_dir == dir.path);
    CHECK(serve.config->alpn == std::vector<std::string>{"hq-interop"});
    CHECK(serve.config->keep_open);
    CHECK(serve.config->max_conns == 100);  // ncat -m's default
    Built limited = build({"--listen", "0", "--echo", "--keep-open", "--max-conns", "7"});
    REQUIRE_MESSAGE(limited.config, limited.error);
    CHECK(limited.config->max_conns == 7);
    Built source = build({"--listen", "0", "--source", "1G"});
    REQUIRE(source.config);
    CHECK(source.config->service == Service::source);
    CHECK(source.config->source_size == (uint64_t{1} << 30));
    CHECK(source.config->alpn == std::vector<std::string>{"quicc"});
    Built peer = build({"--listen", "0", "--peer-streams", "reject:0x10"});
    REQUIRE(peer.config);
    CHECK(peer.config->peer_streams == PeerStreams::reject);
    CHECK(peer.config->peer_stream_reject_code == 0x10);
  }
}

TEST_CASE("cli::build_config: role refusals read as one line naming option and mode") {
  CleanEnvironment env;
  CHECK(build({"--listen", "0", "--echo", "--on-eof", "close"}).error ==
        "--on-eof does not apply to a service listener (--echo, --serve, --sink, --source, --perf) (it has no input)");
  CHECK(build({"--listen", "0", "--sni", "x"}).error ==
        "--sni does not apply to a listener (only a client sends a server name)");
  CHECK(build({"--echo", "h:1"}).error == "--echo does not apply to a client (it needs --listen)");
  CHECK(build({"--listen", "0", "--cafile", "/etc/passwd"}).error ==
        "--cafile on a listener is used only with --require-client-cert");
  CHECK(build({"-k", "--listen", "0"})
            .error.starts_with("--insecure does not apply to a listener"));
}

TEST_CASE("cli::build_config: an option given with its default value is still given") {
  CleanEnvironment env;
  for (auto args : std::vector<std::vector<std::string>>{
           {"--listen", "0", "--echo", "--close-code", "0"},
           {"--listen", "0", "--echo", "--on-eof", "fin"},
           {"--listen", "0", "--echo", "--shutdown", "graceful"},
           {"--listen", "0", "--echo", "--close-reason", ""},
           {"--listen", "0", "--session-out", ""}}) {
    CAPTURE(args.back());
    Built b = build(args);
    CHECK_FALSE(b.config);
    CHECK(contains(b.error, " does not apply to "));
  }
  auto parsed = [](std::vector<const char*> args) {
    args.insert(args.begin(), "quicc");
    return cli::parse_command_line(static_cast<int>(args.size()), args.data()).options;
  };
  CHECK(parsed({"--close-code", "0", "-k", "h:1"}).given ==
        std::set<std::string, std::less<>>{"--close-code", "--insecure"});
  CHECK(parsed({"h:1"}).given.empty());

  // Options filled by code rather than parsed: a value other than the default counts as given.
  cli::Options o;
  o.listen = "0";
  o.echo = true;
  o.wait_peer = true;
  std::string error;
  CHECK_FALSE(cli::build_config(o, error));
  CHECK(error.starts_with("--wait-peer does not apply to a service listener"));
}

TEST_CASE("cli::build_config: files are checked before the network, in the system's words") {
  CleanEnvironment env;
  TempDir dir;
  std::string readable = dir.file("readable.pem", "x\n");
  std::string missing = dir.path + "/missing/x";
  const std::string enoent = std::strerror(ENOENT);
  const std::string eisdir = std::strerror(EISDIR);

  SUBCASE("readable files") {
    for (std::string option : {"--cafile", "--cert", "--key", "--session-in"}) {
      CAPTURE(option);
      std::vector<std::string> base = {"nosuchhost.invalid:1"};
      if (option == "--cert") base = {"--key", readable, "nosuchhost.invalid:1"};
      if (option == "--key") base = {"--cert", readable, "nosuchhost.invalid:1"};
      auto with = [&](const std::string& path) {
        auto args = base;
        args.insert(args.begin(), {option, path});
        return build(args);
      };
      CHECK(with(missing).error == "cannot read " + option + " '" + missing + "': " + enoent);
      CHECK(with(dir.path).error == "cannot read " + option + " '" + dir.path + "': " + eisdir);
      CHECK(with(readable).config);
      if (::geteuid() != 0) {
        std::string locked = dir.file("locked", "x");
        ::chmod(locked.c_str(), 0);
        CHECK(with(locked).error == "cannot read " + option + " '" + locked + "': " +
                                        std::strerror(EACCES));
      }
    }
  }
  SUBCASE("--capath is a readable directory") {
    CHECK(build({"--capath", readable, "h:1"}).error ==
          "cannot read --capath '" + readable + "': " + std::strerror(ENOTDIR));
    CHECK(build({"--capath", missing, "h:1"}).error ==
          "cannot read --capath '" + missing + "': " + enoent);
    CHECK(build({"--capath", dir.path, "h:1"}).config);
  }
  SUBCASE("writable files, checked without a trace") {
    for (std::string option : {"--session-out", "--json-file", "--keylog", "--log-file"}) {
      CAPTURE(option);
      CHECK(build({option, missing, "h:1"}).error ==
            "cannot write " + option + " '" + missing + "': " + enoent);
      CHECK(build({option, dir.path, "h:1"}).error ==
            "cannot write " + option + " '" + dir.path + "': " + eisdir);
      // An existing file keeps its contents; a new one is not left behind.
      std::string existing = dir.file("existing", "keep me");
      CHECK(build({option, existing, "h:1"}).config);
      std::ifstream in(existing);
      CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "keep me");
      std::string fresh = dir.path + "/fresh";
      CHECK(build({option, fresh, "h:1"}).config);
      CHECK_FALSE(std::filesystem::exists(fresh));
    }
    CHECK(build({"--json-file", "/nonexistent/x", "h:1"}).error ==
          "cannot write --json-file '/nonexistent/x': " + enoent);
  }
  SUBCASE("--qlog-dir is an existing writable directory") {
    CHECK(build({"--qlog-dir", readable, "h:1"}).error ==
          "--qlog-dir '" + readable + "': not a directory");
    CHECK(build({"--qlog-dir", missing, "h:1"}).error ==
          "cannot write --qlog-dir '" + missing + "': " + enoent);
    auto b = build({"--qlog-dir", dir.path, "h:1"});
    REQUIRE(b.config);
    CHECK(b.config->qlog_dir == dir.path);
  }
  SUBCASE("QLOGDIR, unless --qlog-dir is given") {
    ::setenv("QLOGDIR", readable.c_str(), 1);
    CHECK(build({"h:1"}).error == "QLOGDIR '" + readable + "': not a directory");
    auto b = build({"--qlog-dir", dir.path, "h:1"});
    REQUIRE(b.config);
    CHECK(b.config->qlog_dir == dir.path);
    ::setenv("QLOGDIR", dir.path.c_str(), 1);
    b = build({"h:1"});
    REQUIRE(b.config);
    CHECK(b.config->qlog_dir == dir.path);
  }
  SUBCASE("SSLKEYLOGFILE, unless --keylog is given") {
    ::setenv("SSLKEYLOGFILE", missing.c_str(), 1);
    CHECK(build({"h:1"}).error == "cannot write SSLKEYLOGFILE '" + missing + "': " + enoent);
    auto b = build({"--keylog", dir.path + "/keys", "h:1"});
    REQUIRE(b.config);
    CHECK(b.config->keylog_file == dir.path + "/keys");
    ::setenv("SSLKEYLOGFILE", (dir.path + "/env-keys").c_str(), 1);
    b = build({"h:1"});
    REQUIRE(b.config);
#ifdef OPENSSL_NO_SSLKEYLOG
    CHECK(b.config->keylog_file == dir.path + "/env-keys");
#else
    CHECK(b.config->keylog_file.empty());  // libssl writes it itself
#endif
  }
}

TEST_CASE("cli::build_config: TLS lists are checked before the network") {
  CleanEnvironment env;
  for (std::string list : {"BOGUS", "BOGUS:TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_SHA256"}) {
    CAPTURE(list);
    // A host that cannot resolve: the refusal must come before any lookup.
    Built b = build({"--ciphersuites", list, "nosuchhost.invalid:1"});
    CHECK_FALSE(b.config);
    CHECK(b.error.starts_with("invalid --ciphersuites '" + list + "': "));
    for (const char* name :
         {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"})
      CHECK(contains(b.error, name));
  }
  CHECK(build({"--ciphersuites", "BOGUS", "h:1"}).error ==
        "invalid --ciphersuites 'BOGUS': 'BOGUS' is not a QUIC ciphersuite (QUIC has "
        "TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256)");
  CHECK(build({"--groups", "X25519:BOGUS", "--listen", "0"}).error.starts_with(
      "invalid --groups 'X25519:BOGUS'"));
  CHECK(build({"--ciphersuites", "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384",
               "--groups", "X25519:P-256", "h:1"})
            .config);
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("cli::parse_duration: resolution and bounds") {
  std::string error;
  CHECK(cli::parse_duration("0", error) == 0ms);
  CHECK(cli::parse_duration("0.0006s", error) == 1ms);
  CHECK(cli::parse_duration("1000000000s", error) == std::chrono::milliseconds(1'000'000'000'000));
  CHECK_FALSE(cli::parse_duration("1000000001s", error));
  CHECK(contains(error, "invalid duration"));
  for (const char* tiny : {"0.0001s", "0.4ms", "0.000001m"}) {
    CAPTURE(tiny);
    CHECK_FALSE(cli::parse_duration(tiny, error));
    CHECK(error == "duration '" + std::string(tiny) + "' is below the 1 ms resolution");
  }

  CleanEnvironment env;
  for (std::string option : {"--timeout", "--idle-exit", "--connect-timeout", "--idle-timeout"}) {
    CAPTURE(option);
    CHECK(build({option, "0.0001s", "h:1"}).error ==
          option + ": duration '0.0001s' is below the 1 ms resolution");
  }
  for (std::string option : {"--timeout", "--idle-exit", "--connect-timeout"})
    CHECK(build({option, "0", "h:1"}).error == option + ": must be positive");
  auto b = build({"--idle-timeout", "0", "h:1"});  // 0 disables the idle timeout
  REQUIRE(b.config);
  CHECK(b.config->idle_timeout == 0ms);
}

TEST_CASE("cli::build_config: --on-eof reset needs a code after the colon") {
  CleanEnvironment env;
  CHECK(build({"--on-eof", "reset:", "h:1"}).error ==
        "invalid --on-eof 'reset:': missing CODE after the colon (plain 'reset' means code 0)");
  for (auto [text, code] : {std::pair{"reset", 0u}, std::pair{"reset:0", 0u},
                            std::pair{"reset:0x10", 16u}}) {
    CAPTURE(text);
    auto b = build({"--on-eof", text, "h:1"});
    REQUIRE(b.config);
    CHECK(b.config->on_eof == EofPolicy::reset);
    CHECK(b.config->eof_reset_code == code);
  }
}

TEST_CASE("cli::build_config: --check and --warn-days") {
  Built check = build({"--check", "--warn-days", "30", "h:1"});
  REQUIRE(check.config);
  CHECK(check.config->check);
  CHECK(check.config->warn_days == 30);
  CHECK_FALSE(build({"h:1"}).config->warn_days);
  CHECK(build({"--warn-days", "0", "h:1"}).config->warn_days == 0);
  // Without --check, --warn-days judges any client run.
  CHECK(build({"--warn-days", "7", "--get", "/x", "h:1"}).config->warn_days == 7);
  for (const char* bad : {"-1", "x", "1.5", "100001", "30d", ""}) {
    CAPTURE(bad);
    CHECK(build({"--warn-days", bad, "h:1"}).error ==
          "invalid --warn-days '" + std::string(bad) + "': expected whole days, 0 to 100000");
  }
  struct Excluded {
    std::vector<std::string> args;
    const char* option;
  };
  const Excluded excluded[] = {
      {{"--get", "/x"}, "--get"},
      {{"--on-eof", "fin"}, "--on-eof"},
      {{"--key-update", "0"}, "--key-update"},
      {{"--idle-exit", "1s"}, "--idle-exit"},
      {{"--peer-streams", "accept"}, "--peer-streams"},
      {{"--send", "x"}, "--send"},
      {{"--send-file", "/dev/null"}, "--send-file"},
      {{"--expect", "x"}, "--expect"},
  };
  for (const auto& e : excluded) {
    CAPTURE(e.option);
    std::vector<std::string> args = e.args;
    args.insert(args.begin(), "--check");
    args.push_back("h:1");
    CHECK(build(args).error ==
          "--check excludes " + std::string(e.option) + " (a check opens no stream)");
  }
  // What a check does honour: the close, the deadlines, trust and resumption.
  CHECK(build({"--check", "--close-code", "0x100", "--shutdown", "rapid", "--timeout", "2s",
               "--pin-sha256", std::string(64, 'a'), "h:1"})
            .config);
}

// ---------------------------------------------------------------------------------------------
// Scripted checks: --send, --send-file, --expect, --expect-close.

TEST_CASE("cli::parse_send_escapes") {
  struct Row {
    const char* text;
    std::optional<std::string> bytes;  // nullopt: a usage error
    const char* error = "";            // part of the error
  };
  const Row rows[] = {
      {"", std::string()},
      {"plain text", std::string("plain text")},
      {R"(GET /\r\n)", std::string("GET /\r\n")},
      {R"(a\tb\nc)", std::string("a\tb\nc")},
      {R"(back\\slash)", std::string("back\\slash")},
      {R"(\\r is not CR)", std::string("\\r is not CR")},
      {R"(\x00\xff\x41\x4a\x4A)", std::string("\0\xff" "AJJ", 5)},
      {R"(\x7)", std::nullopt, "'\\x7' needs two hex digits"},
      {R"(\x7g)", std::nullopt, "'\\x7g' needs two hex digits"},
      {R"(\x)", std::nullopt, "'\\x' needs two hex digits"},
      {R"(\0)", std::nullopt, "unknown escape '\\0'"},
      {R"(\a)", std::nullopt, "unknown escape '\\a'"},
      {R"(\")", std::nullopt, "unknown escape '\\\"'"},
      {R"(\N)", std::nullopt, "unknown escape '\\N'"},
      {R"(end\)", std::nullopt, "a lone backslash at the end"},
      // The bad escape's control bytes are shown escaped.
      {"\\\x1b", std::nullopt, "unknown escape '\\\\x1b'"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.text);
    std::string error;
    auto bytes = cli::parse_send_escapes(r.text, error);
    CHECK(bytes == r.bytes);
    if (!r.bytes) {
      CHECK(error.starts_with("invalid --send '"));
      CHECK(error.find(r.error) != std::string::npos);
      CHECK(error.ends_with("(escapes: \\r \\n \\t \\\\ \\xNN)"));
      CHECK(error.find('\n') == std::string::npos);
    }
  }
  // A long argument is named by its start.
  std::string error;
  CHECK_FALSE(cli::parse_send_escapes(std::string(100, 'a') + "\\q", error));
  CHECK(error == "invalid --send '" + std::string(60, 'a') + "...': unknown escape '\\q' "
                 "(escapes: \\r \\n \\t \\\\ \\xNN)");
}

TEST_CASE("cli::build_config: --send and --send-file, in command-line order") {
  CleanEnvironment env;
  TempDir dir;
  std::string a = dir.file("a", "AAA"), b = dir.file("b", "BBB");
  Built built = build({"--send", "1\\n", "--send-file", a, "--send", "2", "--send-file", b,
                       "--send-file", a, "h:1"});
  REQUIRE(built.config);
  const auto& parts = built.config->send;
  REQUIRE(parts.size() == 5);
  CHECK(parts[0].bytes == "1\n");
  CHECK(parts[1].file == a);
  CHECK(parts[2].bytes == "2");
  CHECK(parts[3].file == b);
  CHECK(parts[4].file == a);
  for (const auto& p : parts) CHECK(p.fd == -1);  // opened later, by open_send_files

  // Opening them: each part its own descriptor.
  Config config = *built.config;
  REQUIRE_FALSE(cli::open_send_files(config));
  for (size_t i : {1, 3, 4}) {
    CHECK(config.send[i].fd >= 0);
    char buf[8] = {};
    CHECK(::read(config.send[i].fd, buf, sizeof buf) == 3);
    CHECK(std::string(buf) == (i == 3 ? "BBB" : "AAA"));
    ::close(config.send[i].fd);
  }

  // Options filled by code have no order: every --send, then every --send-file.
  cli::Options o;
  o.target = "h:1";
  o.send = {"x", "y"};
  o.send_file = {a};
  std::string error;
  auto c = cli::build_config(o, error);
  REQUIRE(c);
  REQUIRE(c->send.size() == 3);
  CHECK(c->send[0].bytes == "x");
  CHECK(c->send[1].bytes == "y");
  CHECK(c->send[2].file == a);

  CHECK(build({"h:1"}).config->send.empty());
}

TEST_CASE("cli::build_config: scripted checks are validated before the network") {
  CleanEnvironment env;
  TempDir dir;
  struct Row {
    std::vector<std::string> args;
    std::string error;  // empty: valid
  };
  const Row rows[] = {
      {{"--send", "a\\q", "h:1"}, "invalid --send 'a\\q': unknown escape '\\q'"},
      {{"--send-file", dir.path + "/missing", "h:1"},
       "cannot read --send-file '" + dir.path + "/missing': No such file or directory"},
      {{"--send-file", dir.path, "h:1"}, "cannot read --send-file '" + dir.path + "': Is a directory"},
      {{"--expect", "a(", "h:1"}, "invalid --expect 'a(': "},
      {{"--expect", "ok", "--expect", "(x)\\1", "h:1"},
       "invalid --expect '(x)\\1': back-references (\\1) are not supported"},
      {{"--expect", "\x1b[", "h:1"}, "invalid --expect '\\x1b[': "},
      {{"--expect-close", "h:1"}, "--expect-close needs --expect"},
      {{"--send", "x", "--get", "/a", "h:1"}, "--send does not go with --get or --get-list (it is for pipe mode)"},
      {{"--expect", "x", "--get", "/a", "h:1"}, "--expect does not go with --get or --get-list (it is for pipe mode)"},
      {{"--send", "x", "--listen", "0", "--echo"}, "--send does not apply to a service listener"},
      {{"--expect", "x", "--expect-close", "--listen", "0"}, ""},
      {{"--send", "x", "--listen", "0", "--keep-open"},
       "--send does not go with --keep-open (it is for one connection)"},
      {{"--expect", "x", "--listen", "0", "--keep-open"},
       "--expect does not go with --keep-open (it is for one connection)"},
      {{"--expect", "", "h:1"}, ""},
  };
  for (const Row& r : rows) {
    CAPTURE(r.args);
    Built b = build(r.args);
    if (r.error.empty()) {
      CHECK_MESSAGE(b.config, b.error);
    } else {
      CHECK_FALSE(b.config);
      CHECK(b.error.starts_with(r.error));
    }
  }
  Built ok = build({"--expect", "a", "--expect", "b", "--expect-close", "h:1"});
  REQUIRE(ok.config);
  CHECK(ok.config->expect == std::vector<std::string>{"a", "b"});
  CHECK(ok.config->expect_close);
}

TEST_CASE("cli::build_config: --perf as a client") {
  CleanEnvironment env;
  SUBCASE("defaults: one stream, --download 100M, ALPN perf") {
    Built b = build({"--perf", "h:1"});
    REQUIRE_MESSAGE(b.config, b.error);
    REQUIRE(b.config->perf_client);
    CHECK(b.config->perf_client->download == 100u << 20);  // K, M, G are binary
    CHECK(b.config->perf_client->upload == 0);
    CHECK(b.config->perf_client->streams == 1);
    CHECK(b.config->perf_client->duration.count() == 0);
    CHECK(b.config->alpn == std::vector<std::string>{"perf"});
    CHECK(b.config->service == Service::pipe);  // a client serves nothing
    CHECK_FALSE(b.config->progress);
  }
  SUBCASE("sizes, streams, duration") {
    Built b = build({"--perf", "--upload", "1M", "--streams", "8", "--duration", "3s", "h:1"});
    REQUIRE_MESSAGE(b.config, b.error);
    CHECK(b.config->perf_client->upload == 1u << 20);
    CHECK(b.config->perf_client->download == 0);  // --upload alone asks for no download
    CHECK(b.config->perf_client->streams == 8);
    CHECK(b.config->perf_client->duration == std::chrono::seconds(3));
  }
  SUBCASE("a listener's --perf is the service, with no client figures") {
    Built b = build({"--listen", "0", "--perf"});
    REQUIRE_MESSAGE(b.config, b.error);
    CHECK(b.config->service == Service::perf);
    CHECK_FALSE(b.config->perf_client);
  }
  struct Row {
    std::vector<std::string> args;
    std::string error;
  };
  const Row rows[] = {
      {{"--upload", "1M", "h:1"}, "--upload needs --perf"},
      {{"--streams", "2", "h:1"}, "--streams needs --perf"},
      {{"--perf", "--streams", "0", "h:1"}, "invalid --streams '0': expected 1 to 1000"},
      {{"--perf", "--streams", "1001", "h:1"}, "invalid --streams '1001': expected 1 to 1000"},
      {{"--perf", "--duration", "0s", "h:1"}, "--duration: expected more than 0"},
      {{"--perf", "--get", "/x", "h:1"},
       "--perf does not go with --get (a perf client sends its own requests and reads no input)"},
      {{"--perf", "--count", "2", "h:1"},
       "--perf does not go with --count (a perf client sends its own requests and reads no input)"},
      {{"--perf", "--progress", "h:1"},
       "--progress does not go with --perf (the meter is a pipe's or --get's)"},
      {{"--listen", "0", "--perf", "--download", "1M"},
       "--download does not apply to a listener (a perf client measures; a perf server "
       "answers what it is asked for)"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.args);
    Built b = build(row.args);
    CHECK_FALSE(b.config);
    CHECK(b.error == row.error);
  }
  Built bad = build({"--perf", "--upload", "lots", "h:1"});
  CHECK(bad.error.starts_with("--upload: "));
}
