// cli/usage_hints.cpp: "did you mean" for mistyped options, and the HOST:PORT form for a target
// written as a URL or as two words, over the real option table.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/options.hpp"
#include "cli/usage_hints.hpp"

using namespace quicc::cli;

namespace {

std::vector<std::string_view> names() {
  std::vector<std::string_view> out;
  for (const auto& spec : option_table()) out.push_back(long_name(spec));
  return out;
}

std::string closest(std::string_view typed) {
  auto all = names();
  return closest_option(typed, all).value_or("(none)");
}

std::string unexpected(std::vector<std::string> extras, std::string_view target) {
  auto all = names();
  return unexpected_arguments_error(extras, target, all);
}

}  // namespace

TEST_CASE("cli::closest_option") {
  struct Case {
    const char* typed;
    const char* meant;
  } cases[] = {
      {"--alpm", "--alpn"},                  // a letter changed
      {"--lsten", "--listen"},               // dropped
      {"--listenn", "--listen"},             // added
      {"--lsiten", "--listen"},              // two swapped
      {"--conect-timeout", "--connect-timeout"},
      {"--insecrue", "--insecure"},
      {"--keep-opne", "--keep-open"},
      {"--alpn=h3x", "--alpn"},              // the name of --name=value (itself known)
      {"--max-con", "--max-conns"},          // the only name it starts
      {"-alpn", "--alpn"},                   // one dash
      {"--ipv", "--ipv4 or --ipv6"},         // a tie is shown as one
      {"--connect-t", "--connect-to or --connect-timeout"},
      {"--frobnicate", "(none)"},            // nothing near
      {"--x", "(none)"},
      {"-Z", "(none)"},                      // a short option has no neighbours
      {"--", "(none)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.typed);
    std::string got = closest(c.typed);
    if (std::string(c.meant).find(" or ") != std::string::npos) {
      // Both named, in the table's order.
      std::string a(c.meant, std::string(c.meant).find(" or "));
      std::string b(std::string(c.meant).substr(std::string(c.meant).find(" or ") + 4));
      CHECK((got == a + " or " + b || got == b + " or " + a));
    } else {
      CHECK(got == c.meant);
    }
  }
}

TEST_CASE("cli::unexpected_arguments_error") {
  CHECK(unexpected({"--alpm", "h3"}, "") ==
        "unknown option '--alpm': did you mean --alpn? (quicc --help all lists the options)");
  CHECK(unexpected({"--alpm=h3"}, "host:443") ==
        "unknown option '--alpm': did you mean --alpn? (quicc --help all lists the options)");
  CHECK(unexpected({"-Z"}, "h:1") == "unknown option '-Z' (quicc --help all lists the options)");
  // An unknown option is named first, even after another word.
  CHECK(unexpected({"extra", "--nosuch"}, "h:1") ==
        "unknown option '--nosuch' (quicc --help all lists the options)");
  CHECK(unexpected({"4433"}, "example.org") ==
        "HOST and PORT are one argument: did you mean example.org:4433?");
  CHECK(unexpected({"4433"}, "example.org:443") ==
        "unexpected argument '4433' after the target example.org:443 (quicc takes one HOST:PORT)");
  CHECK(unexpected({"extra"}, "h:1") ==
        "unexpected argument 'extra' after the target h:1 (quicc takes one HOST:PORT)");
}

TEST_CASE("cli::url_target_error") {
  CHECK(url_target_error("https://example.org:4433") ==
        "'https://example.org:4433' is a URL; quicc takes HOST:PORT: did you mean example.org:4433?");
  CHECK(url_target_error("https://example.org/") ==
        "'https://example.org/' is a URL; quicc takes HOST:PORT: did you mean example.org:443?");
  CHECK(url_target_error("quic://example.org") ==
        "'quic://example.org' is a URL; quicc takes HOST:PORT: did you mean example.org:PORT?");
  CHECK(url_target_error("https://[::1]:4433/index.html") ==
        "'https://[::1]:4433/index.html' is a URL; quicc takes HOST:PORT: did you mean [::1]:4433? "
        "(a file: --get /index.html)");
  CHECK(url_target_error("https://[::1]/x") ==
        "'https://[::1]/x' is a URL; quicc takes HOST:PORT: did you mean [::1]:443? (a file: --get /x)");
  CHECK(url_target_error("https://user@host:8443?q") ==
        "'https://user@host:8443?q' is a URL; quicc takes HOST:PORT: did you mean host:8443?");
  CHECK(url_target_error("https://") == "'https://' is a URL; quicc takes HOST:PORT");
  CHECK_FALSE(url_target_error("example.org:443"));
  CHECK_FALSE(url_target_error("[::1]:4433"));
  CHECK_FALSE(url_target_error("://x"));
}
