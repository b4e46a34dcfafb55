#include "options.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "exit_codes.hpp"

namespace quicc::cli {

namespace {

// Order within a category is the order --help shows.
constexpr OptionSpec table[] = {
    {"-l,--listen", "[ADDR:]PORT", "",
     "Listen for one QUIC connection instead of connecting (like nc -l); port 0 picks a free "
     "port",
     Category::listener, &Options::listen},
    {"--echo", "", "", "With --listen: echo every stream of every connection, until interrupted",
     Category::listener, &Options::echo},
    {"--alpn", "LIST", "quicc",
     "Comma-separated ALPN protocols to offer (client) or accept (listener)",
     Category::connection, &Options::alpn},
    {"--connect-timeout", "DURATION", "10s",
     "Handshake deadline: 250ms, 3s, 2m; a bare number means seconds", Category::connection,
     &Options::connect_timeout},
    {"--cafile", "FILE", "", "Trust the CA certificates in FILE instead of the system store",
     Category::security, &Options::cafile},
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

constexpr Category category_order[] = {Category::connection, Category::listener,
                                       Category::security,   Category::engine,
                                       Category::output,     Category::general};

}  // namespace

std::span<const OptionSpec> option_table() { return table; }

std::string_view category_title(Category c) {
  switch (c) {
    case Category::connection: return "Connection";
    case Category::listener: return "Listener";
    case Category::security: return "Security";
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

ParseResult parse_command_line(int argc, const char* const* argv) {
  ParseResult result;
  Options& o = result.options;
  CLI::App app{"quicc"};
  app.set_help_flag();  // --help comes from our table, like every other option
  app.allow_extras(false);

  for (const auto& spec : table) {
    std::string flags(spec.flags);
    std::visit(
        [&](auto member) {
          using T = std::remove_reference_t<decltype(o.*member)>;
          if constexpr (std::is_same_v<T, std::string>) {
            app.add_option(flags, o.*member);
          } else if constexpr (std::is_same_v<T, bool>) {
            app.add_flag(flags, o.*member);
          } else {
            app.add_flag(flags, o.*member);
          }
        },
        spec.binding);
  }
  app.add_option("target", o.target);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    result.error = what.empty() ? "invalid command line" : what;
  }
  return result;
}

std::string help_text() {
  std::string out =
      "Usage: quicc [OPTIONS] HOST:PORT\n"
      "       quicc [OPTIONS] --listen [ADDR:]PORT\n"
      "\n"
      "Pipes stdin and stdout over one bidirectional QUIC stream (OpenSSL 3.5).\n"
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
      out += fmt::format("  {:<30} {}\n", left, help);
    }
  }
  out += "\nExit codes:\n";
  for (const auto& e : exit_code_table())
    out += fmt::format("  {:>3}  {}\n", e.code, e.description);
  return out;
}

}  // namespace quicc::cli
