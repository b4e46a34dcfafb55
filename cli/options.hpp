// The command line: one table of options drives parsing, --help and (later) the man page and
// shell completions, as curl's tool layer does.
#pragma once

#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace quicc::cli {

// Raw option values as typed; cli/config_builder.cpp validates and converts them.
struct Options {
  std::string target;  // HOST:PORT (client)
  std::string listen;  // [ADDR:]PORT (listener)
  bool echo = false;
  std::string serve;   // --serve DIR
  bool sink = false;
  bool perf = false;
  std::string upload;    // --upload SIZE (perf client)
  std::string download;  // --download SIZE
  std::string streams;   // --streams K
  std::string duration;  // --duration DURATION
  std::string source;  // --source SIZE
  bool keep_open = false;
  std::string max_conns = "100";  // --max-conns N
  std::vector<std::string> get;  // --get PATH, repeatable
  std::string get_list;
  std::string max_streams;
  std::string output_dir;
  std::string output;
  std::string peer_streams = "ignore";
  // Scripted checks.
  std::vector<std::string> send;       // --send DATA, repeatable, escapes not yet decoded
  std::vector<std::string> send_file;  // --send-file FILE, repeatable
  // The order of --send and --send-file on the command line, one entry per occurrence: true
  // for --send-file. Empty (Options filled by code): every --send, then every --send-file.
  std::vector<bool> send_order;
  std::vector<std::string> expect;  // --expect REGEX, repeatable
  bool expect_close = false;
  std::string alpn = "quicc";
  std::string sni;
  bool no_sni = false;
  std::string connect_to;
  bool ipv4 = false;
  bool ipv6 = false;
  std::string idle_timeout;
  std::string session_in;
  std::string session_out;
  std::string key_update;
  std::string cafile;
  std::string capath;
  bool insecure = false;
  bool require_client_cert = false;
  std::string ciphersuites;
  std::string groups;
  std::string keylog;
  std::string qlog_dir;
  bool stats = false;
  bool json = false;
  std::string json_file;
  std::string write_out;  // -w FORMAT (cli/write_out.hpp)
  std::string count = "1";     // --count N
  std::string parallel = "1";  // --parallel K
  std::string interval;        // --interval DURATION
  std::string retry = "0";     // --retry N
  std::string retry_delay = "1s";  // --retry-delay DURATION
  std::string pin_sha256;
  std::string cert;
  std::string key;
  bool blocking = false;
  bool nonblocking = false;
  // Smoke tests.
  bool check = false;
  std::string warn_days;
  std::string connect_timeout = "10s";
  std::string timeout;
  std::string idle_exit;
  std::string on_eof = "fin";
  bool crlf = false;  // -C, --crlf
  bool interactive = false;
  bool no_interactive = false;
  bool progress = false;
  bool send_only = false;
  bool recv_only = false;
  bool no_progress = false;
  std::string shutdown = "graceful";
  bool no_stream_flush = false;
  bool wait_peer = false;
  std::string close_code = "0";
  std::string close_reason;
  bool partial_write = false;
  bool moving_buffer = false;
  int verbose = 0;
  std::string log_format = "text";
  std::string log_file;
  std::string help;  // --help [CATEGORY|all]: the topic; empty for the short help
  bool version = false;

  // Long names ("--close-code") of the options given on the command line, so that a rule can
  // refuse an option even when its value equals the default.
  std::set<std::string, std::less<>> given;
};

enum class Category { connection, requests, scripted, listener, security, lifecycle, engine, output, general };

// Which help shows an option: the short `--help` only the essential ones (what a newcomer
// needs: target, trust, ALPN, the main modes); `--help all`, `--help CATEGORY` and the man page
// every one.
enum class Level { normal, essential };

// How a table entry stores its value in Options.
using Binding = std::variant<std::string Options::*,               // takes an argument
                             std::vector<std::string> Options::*,  // repeatable, one each
                             bool Options::*,                      // a switch
                             int Options::*>;                      // a counting switch (-v -v)

// Which runs accept an option: a client, a pipe listener (--listen), a service listener
// (--listen with --echo, --serve, --sink, --source or --perf). build_config refuses it
// elsewhere (cli/role_rules.hpp), the man page says where it applies, and the role parity test
// runs every cell.
struct Roles {
  bool client = true;
  bool pipe_listener = true;
  bool service_listener = true;
  std::string_view why = {};  // completes "OPTION does not apply to MODE (WHY)"
  // When set, a listener accepts the option only together with this one.
  std::string_view listener_needs = {};

  constexpr bool restricted() const {
    return !client || !pipe_listener || !service_listener || !listener_needs.empty();
  }
};

// One option: CLI11's registration, its roles, --help, the man page (man/quicc.1) and the
// completions (completions/) all come from these fields (cli/docs.cpp; tests/docs.sh keeps the
// generated files in step).
struct OptionSpec {
  std::string_view flags;     // CLI11 spelling: "-l,--listen"
  std::string_view argument;  // placeholder shown in help ("ADDR:PORT"); empty for switches;
                              // FILE or DIR in it completes file or directory names
  std::string_view default_value;  // as shown in help; empty when none
  std::string_view help;           // one line (at most 48 columns): --help
  Category category;
  Binding binding;
  Roles roles = {};                    // every run, unless restricted
  std::string_view description = {};  // the whole story (man page, --help CATEGORY); empty: help
  std::string_view values = {};   // the fixed choices of its argument, space-separated (completions)
  std::string_view example = {};  // a command line that uses it (man page)
  Level level = Level::normal;

  std::string_view text() const { return description.empty() ? help : description; }
};

std::span<const OptionSpec> option_table();
std::string_view category_title(Category c);
// The word naming a category after --help ("connection", "ending", ...).
std::string_view category_key(Category c);
// Every category, in the order help shows them.
std::span<const Category> categories();

// The long name ("--listen") of a table entry.
std::string_view long_name(const OptionSpec& spec);

// Whether the option named by its long name was given: listed in `given`, or, for Options
// filled by code rather than by parse_command_line, holding a value other than its default.
bool was_given(const Options& options, std::string_view long_name);

struct ParseResult {
  Options options;
  std::string error;  // non-empty: usage error, one line
};

ParseResult parse_command_line(int argc, const char* const* argv);

// --help TOPIC: empty for the short help, "all", or a category's key; nullopt for an unknown
// topic. From the table and the exit-code table; at most 80 columns.
std::optional<std::string> help_text(std::string_view topic = {});
// The one-line usage error for an unknown --help topic.
std::string unknown_help_topic(std::string_view topic);

// Word-wraps `text` to `width` columns, continuation lines indented by `indent` (the first
// line is assumed to start at `indent` too).
std::string wrap(std::string_view text, size_t indent, size_t width);

}  // namespace quicc::cli
