#include <doctest/doctest.h>

#include "core/endpoint.hpp"

using quicc::parse_endpoint;
using quicc::parse_listen_endpoint;

TEST_CASE("core::parse_endpoint") {
  std::string error;

  SUBCASE("name and port") {
    auto ep = parse_endpoint("example.org:4433", error);
    REQUIRE(ep);
    CHECK(ep->host == "example.org");
    CHECK(ep->port == 4433);
    CHECK_FALSE(ep->bracketed);
    CHECK(ep->to_string() == "example.org:4433");
  }
  SUBCASE("IPv4 literal") {
    auto ep = parse_endpoint("127.0.0.1:1", error);
    REQUIRE(ep);
    CHECK(ep->host == "127.0.0.1");
    CHECK(ep->port == 1);
  }
  SUBCASE("bracketed IPv6 literal") {
    auto ep = parse_endpoint("[::1]:65535", error);
    REQUIRE(ep);
    CHECK(ep->host == "::1");
    CHECK(ep->port == 65535);
    CHECK(ep->bracketed);
    CHECK(ep->to_string() == "[::1]:65535");
  }
  SUBCASE("bad inputs name the problem") {
    struct Case {
      const char* text;
      const char* expect;
    };
    const Case cases[] = {
        {"localhost", "missing ':PORT'"},
        {"localhost:", "missing port"},
        {"localhost:0", "out of range"},
        {"localhost:65536", "out of range"},
        {"localhost:99999999999", "out of range"},
        {"localhost:44x", "not a number"},
        {"localhost:-1", "not a number"},
        {":443", "missing host"},
        {"[::1:443", "unbalanced '['"},
        {"::1]:443", "unbalanced ']'"},
        {"[]:443", "empty address"},
        {"[::1]443", "missing ':PORT' after ']'"},
        {"[::1]", "missing ':PORT' after ']'"},
        {"::1:443", "must be written in brackets"},
        {"", "missing ':PORT'"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.text);
      error.clear();
      CHECK_FALSE(parse_endpoint(c.text, error));
      CHECK(error.find(c.expect) != std::string::npos);
    }
  }
}

TEST_CASE("core::parse_listen_endpoint") {
  std::string error;
  SUBCASE("bare port listens everywhere; 0 picks a free port") {
    auto ep = parse_listen_endpoint("4433", error);
    REQUIRE(ep);
    CHECK(ep->host.empty());
    CHECK(ep->port == 4433);
    ep = parse_listen_endpoint("0", error);
    REQUIRE(ep);
    CHECK(ep->port == 0);
  }
  SUBCASE("address and port") {
    auto ep = parse_listen_endpoint("127.0.0.1:0", error);
    REQUIRE(ep);
    CHECK(ep->host == "127.0.0.1");
    ep = parse_listen_endpoint("[::]:4433", error);
    REQUIRE(ep);
    CHECK(ep->host == "::");
  }
  SUBCASE("bad inputs") {
    CHECK_FALSE(parse_listen_endpoint("70000", error));
    CHECK(error.find("out of range") != std::string::npos);
    CHECK_FALSE(parse_listen_endpoint("abc", error));
    CHECK_FALSE(parse_listen_endpoint("[::1:1", error));
    CHECK_FALSE(parse_listen_endpoint("", error));
  }
}
