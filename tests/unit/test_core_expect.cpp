// Expectations (--expect): the matching rules as tables. Patterns, the data fed in chunks,
// whether the peer's FIN came; then met(), and the verdict on a run's outcome.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/expect.hpp"

using namespace quicc;

namespace {

// Feeds `chunks` in order; data_ended() after them when `fin`.
bool met_after(const std::vector<std::string>& patterns, const std::vector<std::string>& chunks,
               bool fin) {
  Expectations e(patterns);
  for (const auto& c : chunks) e.feed(c.data(), c.size());
  if (fin) e.data_ended();
  return e.verdict(Outcome{}).ok();
}

}  // namespace

TEST_CASE("Expectations: which data matches which patterns") {
  struct Row {
    const char* name;
    std::vector<std::string> patterns;
    std::vector<std::string> chunks;
    bool fin;
    bool met;
  };
  const Row rows[] = {
      {"plain text", {"hello"}, {"say hello\n"}, true, true},
      {"absent", {"world"}, {"hello\n"}, true, false},
      {"nothing received", {"x"}, {}, true, false},
      {"a match across chunks", {"hello"}, {"he", "l", "lo"}, false, true},
      {"every pattern must match", {"a", "b"}, {"a"}, true, false},
      {"every pattern, in any order", {"b", "a"}, {"a", "b"}, false, true},
      {"ECMAScript syntax", {R"(^HTTP/1\.[01] 2\d\d\b)"}, {"HTTP/1.1 200 OK\r\n"}, false, true},
      {"^ at a line start (multiline)", {"^220 "}, {"banner\n220 ready\n"}, false, true},
      {"^ not mid-line", {"^220 "}, {"code 220 ready\n"}, true, false},
      {"^ at the start of a later chunk's line", {"^b"}, {"a\n", "b"}, false, true},
      {"^ not at a chunk start mid-line", {"^b"}, {"a", "b"}, true, false},
      {"$ before a line break", {"ready$"}, {"ready\nmore"}, false, true},
      {"$ before \\r (a line terminator in ECMAScript)", {"ready$"}, {"ready\r\n"}, true, true},
      {"^ after \\r", {"^b"}, {"a\rb"}, false, true},
      {"\\r? for CRLF", {"ready\\r?$"}, {"ready\r\n"}, true, true},
      {"$ at the end of the data only after the FIN", {"ready$"}, {"ready"}, false, false},
      {"$ at the end of the data with the FIN", {"ready$"}, {"ready"}, true, true},
      {"\\b at the end waits for the FIN", {"ready\\b"}, {"ready"}, false, false},
      {"\\b at the end with the FIN", {"ready\\b"}, {"ready"}, true, true},
      {"the empty pattern matches at once", {""}, {}, false, true},
      {"binary data", {"\\x00\\xff"}, {std::string("a\0\xff", 3)}, false, true},
      {"[\\s\\S] spans lines", {"a[\\s\\S]*b"}, {"a\nx\nb"}, false, true},
      {". does not span lines", {"a.*b"}, {"a\nb"}, true, false},
      {"case matters", {"hello"}, {"HELLO"}, true, false},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    CHECK(met_after(r.patterns, r.chunks, r.fin) == r.met);
  }
}

TEST_CASE("Expectations: met() as data arrives, and feed()'s answer") {
  Expectations e({"one", "two"});
  CHECK(e.active());
  CHECK_FALSE(e.met());
  CHECK_FALSE(e.feed("one ", 4));
  CHECK_FALSE(e.met());
  CHECK(e.feed("two", 3));
  CHECK(e.met());
  CHECK(e.feed("more", 4));  // stays met
  CHECK(e.received() == 11);

  Expectations none({});
  CHECK_FALSE(none.active());
  CHECK(none.met());
  Outcome timeout{Status::timeout, "--timeout 1s reached"};
  CHECK(none.verdict(timeout).status == Status::timeout);
}

TEST_CASE("Expectations::verdict: which outcomes an unmet expectation replaces") {
  struct Row {
    Status run;
    Status judged;
  };
  const Row rows[] = {
      {Status::ok, Status::expect_failed},
      {Status::timeout, Status::expect_failed},
      {Status::idle_timeout, Status::expect_failed},
      {Status::incomplete, Status::expect_failed},
      {Status::stream_reset, Status::stream_reset},
      {Status::peer_app_error, Status::peer_app_error},
      {Status::peer_transport_error, Status::peer_transport_error},
      {Status::io_error, Status::io_error},
      {Status::output_closed, Status::output_closed},
      {Status::interrupted, Status::interrupted},
      {Status::internal, Status::internal},
  };
  for (const Row& r : rows) {
    CAPTURE(status_name(r.run));
    Expectations unmet({"x"});
    unmet.feed("abc", 3);
    CHECK(unmet.verdict(Outcome{r.run, "why"}).status == r.judged);
    Expectations met({"b"});
    met.feed("abc", 3);
    CHECK(met.verdict(Outcome{r.run, "why"}).status == r.run);
  }
}

TEST_CASE("Expectations::verdict: the message names the patterns, the end and the first bytes") {
  SUBCASE("at the peer's FIN") {
    Expectations e({"world", "hel+o"});
    e.feed("hello\r\n", 7);
    e.data_ended();
    Outcome o = e.verdict(Outcome{});
    CHECK(o.status == Status::expect_failed);
    CHECK(o.message ==
          "--expect found no match in the received data (7 bytes received up to the peer's "
          "FIN): 'world' did not match; received:");
    REQUIRE(o.peer_data);
    CHECK(*o.peer_data == "hello\r\n");
  }
  SUBCASE("at --timeout, two patterns of three") {
    Expectations e({"a", "b", "c"});
    e.feed("b", 1);
    Outcome o = e.verdict(Outcome{Status::timeout, "--timeout 2s reached"});
    CHECK(o.message ==
          "--expect found no match in the received data (1 byte received; --timeout 2s "
          "reached): 'a' and 'c' did not match (2 of 3); received:");
  }
  SUBCASE("nothing received, the connection closed") {
    Expectations e({"a"});
    Outcome o = e.verdict(Outcome{});
    CHECK(o.message ==
          "--expect found no match in the received data (nothing received before the "
          "connection closed): 'a' did not match");
    CHECK_FALSE(o.peer_data);
  }
  SUBCASE("only the first bytes are shown") {
    Expectations e({"z"});
    std::string data(1000, 'y');
    e.feed(data.data(), data.size());
    Outcome o = e.verdict(Outcome{});
    CHECK(o.message.ends_with("; the first 64 bytes:"));
    REQUIRE(o.peer_data);
    CHECK(*o.peer_data == std::string(64, 'y'));
  }
}

TEST_CASE("Expectations: the first 1 MiB is searched, matches that began long before are "
          "found at the end") {
  SUBCASE("past the limit: unsearched, and said so") {
    Expectations e({"needle"});
    std::string filler(Expectations::search_limit, 'x');
    e.feed(filler.data(), filler.size());
    CHECK_FALSE(e.feed("needle", 6));
    e.data_ended();
    Outcome o = e.verdict(Outcome{});
    CHECK(o.status == Status::expect_failed);
    CHECK(o.message.find("only the first 1 MiB is searched") != std::string::npos);
  }
  SUBCASE("a match that ends at the limit") {
    Expectations e({"needle"});
    std::string filler(Expectations::search_limit - 6, 'x');
    e.feed(filler.data(), filler.size());
    CHECK(e.feed("needle", 6));
  }
  SUBCASE("a match longer than the window: not as it arrives, but in the verdict") {
    Expectations e({"BEGIN[\\s\\S]*END"});
    e.feed("BEGIN", 5);
    std::string filler(Expectations::window + 10, '.');
    CHECK_FALSE(e.feed(filler.data(), filler.size()));
    CHECK_FALSE(e.feed("END", 3));
    CHECK(e.verdict(Outcome{}).ok());
  }
  SUBCASE("a match within the window is found as it arrives") {
    Expectations e({"BEGIN[\\s\\S]*END"});
    e.feed("BEGIN", 5);
    std::string filler(Expectations::window - 100, '.');
    CHECK_FALSE(e.feed(filler.data(), filler.size()));
    CHECK(e.feed("END", 3));
  }
}

TEST_CASE("Expectations: patterns the matcher refuses") {
  CHECK_FALSE(Expectations::invalid("a(b)c"));
  CHECK_FALSE(Expectations::invalid(""));
  CHECK_FALSE(Expectations::invalid("[)]"));
  // The library's words (libstdc++: "Mismatched '(' and ')' in regular expression").
  for (const char* bad : {"a(", "a)", "[a", "*a", "a{2,1}", "[b-a]", "a\\"}) {
    CAPTURE(bad);
    auto why = Expectations::invalid(bad);
    REQUIRE(why);
    CHECK_FALSE(why->empty());
  }
  CHECK(Expectations::invalid("(a)\\1") == "back-references (\\1) are not supported");
  // A pattern with a stray ")" would close the one-pass wrapper's group early; it is refused.
  CHECK(Expectations::invalid(")|(") );
}

TEST_CASE("Expectations: a megabyte, no stack overflow; small chunks in linear time") {
  // std::regex's default executor recursed once per byte and crashed on 64 KiB; the matcher
  // must also not search everything again for each chunk. (Sizes kept small enough for the
  // sanitizer builds, where std::regex runs about 20 times slower.)
  auto t0 = std::chrono::steady_clock::now();
  Expectations big({"(a|b)*c", "^x+$"});
  std::string chunk(64 * 1024, 'a');
  for (size_t fed = 0; fed < Expectations::search_limit; fed += chunk.size())
    big.feed(chunk.data(), chunk.size());
  big.data_ended();
  CHECK(big.verdict(Outcome{}).status == Status::expect_failed);

  Expectations trickle({".*never"});
  std::string small(1200, 'a');
  for (size_t fed = 0; fed < 128 * 1024; fed += small.size()) trickle.feed(small.data(), small.size());
  CHECK(trickle.verdict(Outcome{}).status == Status::expect_failed);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(seconds < 60);
  MESSAGE("1 MiB in 64 KiB chunks (2 patterns), 128 KiB in 1200-byte chunks: " << seconds << " s");
}
