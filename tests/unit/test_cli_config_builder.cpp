#include <doctest/doctest.h>

#include "cli/config_builder.hpp"
#include "cli/options.hpp"

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
    CHECK(config->echo);
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

TEST_CASE("cli::help_text lists every option in the table") {
  std::string help = cli::help_text();
  for (const auto& spec : cli::option_table()) {
    CAPTURE(spec.flags);
    CHECK(help.find(std::string(cli::long_name(spec))) != std::string::npos);
  }
  CHECK(help.find("Exit codes:") != std::string::npos);
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
