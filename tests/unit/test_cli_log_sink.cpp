// Text a peer controls (close reason, ALPN names, certificate names, trace text) must reach the
// terminal without control bytes and the JSON sinks as valid UTF-8 JSON, whatever its bytes.
// Every sink is tested through its public function, against checkers written independently of
// cli/safe_text.cpp so that the code is not checked against itself.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cli/log_sink.hpp"
#include "cli/stats.hpp"

using namespace quicc;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

// Strict UTF-8 after RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t length = c < 0x80           ? 1
                    : (c >> 5) == 0x06 ? 2
                    : (c >> 4) == 0x0e ? 3
                    : (c >> 3) == 0x1e ? 4
                                       : 0;
    if (length == 0 || i + length > s.size()) return false;
    uint32_t cp = length == 1 ? c : c & (0xff >> (length + 1));
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (next & 0x3f);
    }
    static constexpr uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[length] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
    i += length;
  }
  return true;
}

// Safe for a terminal: valid UTF-8 with no C0 control (but the allowed newlines), no DEL and
// no C1 control (U+0080..U+009F, encoded as 0xc2 0x80..0x9f).
bool terminal_safe(std::string_view s, bool newlines_allowed = false) {
  if (!valid_utf8(s)) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n' && newlines_allowed) continue;
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f) return false;
  }
  return true;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Parses the one-level JSON objects quicc writes ({"key":"string" or number or bool,...}) as a
// JSON parser would, returning each member's decoded value; nullopt when it is not valid JSON
// or not valid UTF-8. A raw control byte inside a string is invalid JSON; a raw DEL or C1
// control is valid JSON but is rejected too, as quicc promises to escape those.
std::optional<std::map<std::string, std::string>> parse_json_object(std::string_view s) {
  if (!valid_utf8(s)) return std::nullopt;
  size_t i = 0;
  auto parse_string = [&]() -> std::optional<std::string> {
    if (i >= s.size() || s[i] != '"') return std::nullopt;
    std::string out;
    for (++i; i < s.size(); ++i) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c == '"') {
        ++i;
        return out;
      }
      if (c < 0x20 || c == 0x7f) return std::nullopt;
      if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f)
        return std::nullopt;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (++i >= s.size()) return std::nullopt;
      switch (s[i]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          // quicc only writes \u for characters below U+00A0, so no surrogate pairs here.
          if (i + 4 >= s.size()) return std::nullopt;
          std::string hex(s.substr(i + 1, 4));
          if (hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
            return std::nullopt;
          uint32_t cp = static_cast<uint32_t>(std::stoul(hex, nullptr, 16));
          if (cp >= 0xd800 && cp <= 0xdfff) return std::nullopt;
          append_utf8(out, cp);
          i += 4;
          break;
        }
        default: return std::nullopt;
      }
    }
    return std::nullopt;
  };

  std::map<std::string, std::string> members;
  if (s.empty() || s[i++] != '{') return std::nullopt;
  while (i < s.size() && s[i] != '}') {
    if (!members.empty() && s[i++] != ',') return std::nullopt;
    auto key = parse_string();
    if (!key || i >= s.size() || s[i++] != ':') return std::nullopt;
    if (i < s.size() && s[i] == '"') {
      auto value = parse_string();
      if (!value) return std::nullopt;
      members[*key] = *value;
    } else {
      size_t end = s.find_first_of(",}", i);
      if (end == std::string_view::npos || end == i) return std::nullopt;
      std::string literal(s.substr(i, end - i));
      if (literal.find_first_not_of("0123456789.-+eEtruefals") != std::string::npos)
        return std::nullopt;
      members[*key] = literal;
      i = end;
    }
  }
  if (i + 1 != s.size()) return std::nullopt;  // the closing brace, and nothing after it
  return members;
}

const std::string fffd = "\xef\xbf\xbd";

// A hostile or harmless string, how a text sink shows it (outside quotes) and what a JSON
// parser reads back from the JSON sinks.
struct Case {
  const char* name;
  std::string input;
  std::string text;
  std::string json_decoded;
};

const Case cases[] = {
    {"ESC colour", "\x1b[31mred", "\\x1b[31mred", "\x1b[31mred"},
    {"ESC clear screen", "\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H", "\x1b[2J\x1b[H"},
    {"BEL", "ding\x07", "ding\\x07", "ding\x07"},
    {"NUL", "a\0b"s, "a\\x00b", "a\0b"s},
    {"DEL", "a\x7f", "a\\x7f", "a\x7f"},
    {"CR", "over\rwrite", "over\\x0dwrite", "over\rwrite"},
    {"newline", "two\nlines", "two\\x0alines", "two\nlines"},
    {"tab", "a\tb", "a\\x09b", "a\tb"},
    {"lone 0xff", "x\xffy", "x\\xffy", "x" + fffd + "y"},
    {"lone continuation byte", "\x80", "\\x80", fffd},
    {"truncated 3-byte sequence", "\xe2\x82", "\\xe2\\x82", fffd + fffd},
    {"truncated sequence before ASCII", "\xe2\x82z", "\\xe2\\x82z", fffd + fffd + "z"},
    {"overlong slash", "\xc0\xaf", "\\xc0\\xaf", fffd + fffd},
    {"overlong 3-byte", "\xe0\x80\xaf", "\\xe0\\x80\\xaf", fffd + fffd + fffd},
    {"surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80", fffd + fffd + fffd},
    {"above U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", fffd + fffd + fffd + fffd},
    {"0xf5 lead", "\xf5\x80", "\\xf5\\x80", fffd + fffd},
    {"C1 CSI", "\xc2\x9b" "31m", "\\xc2\\x9b31m", "\xc2\x9b" "31m"},
    {"C1 NEL", "\xc2\x85", "\\xc2\\x85", "\xc2\x85"},
    {"e acute", "caf\xc3\xa9", "caf\xc3\xa9", "caf\xc3\xa9"},
    {"NBSP, the first after C1", "\xc2\xa0", "\xc2\xa0", "\xc2\xa0"},
    {"Japanese", "\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac",
     "\xe6\x97\xa5\xe6\x9c\xac"},
    {"emoji", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
    {"backslash stays", "a\\x1b", "a\\x1b", "a\\x1b"},
    {"plain", "bye", "bye", "bye"},
};

CloseEvent close_with_reason(const std::string& reason) {
  CloseEvent close;
  close.error_code = 5;
  close.reason = reason;
  return close;
}

// An event sink for StatsCollector that drops everything.
struct NullSink : EventSink {
  void on_event(const Event&) override {}
};

}  // namespace

TEST_CASE("cli::format_text, notice_text and text_lines escape peer text") {
  SUBCASE("close reason as a field") {
    for (const auto& c : cases) {
      CAPTURE(c.name);
      std::string line = cli::format_text(cli::record_of(close_with_reason(c.input)));
      CHECK(terminal_safe(line));
      // Text that needed no escaping stays plain; anything escaped is quoted.
      std::string shown = c.text == c.input ? c.text : "\"" + c.text + "\"";
      CHECK(line.find(" reason=" + shown + " ") != std::string::npos);
    }
  }
  SUBCASE("error line quoting the close reason") {
    for (const auto& c : cases) {
      CAPTURE(c.name);
      std::string message = "peer closed the connection: application error 0x5 (" + c.input + ")";
      std::string notice = cli::notice_text(ErrorEvent{{Status::peer_app_error, message}});
      CHECK(terminal_safe(notice));
      CHECK(notice == "error: peer closed the connection: application error 0x5 (" + c.text + ")");
    }
  }
  SUBCASE("warning with a client's ALPN") {
    for (const auto& c : cases) {
      CAPTURE(c.name);
      std::string notice = cli::notice_text(WarningEvent{"the client offered " + c.input});
      CHECK(terminal_safe(notice));
      CHECK(notice == "warning: the client offered " + c.text);
    }
  }
  SUBCASE("trace keeps newlines, escapes the rest") {
    for (const auto& c : cases) {
      CAPTURE(c.name);
      std::string text = "Received Frame: CONNECTION_CLOSE\n    reason: " + c.input;
      std::string line = cli::format_text(cli::record_of(TraceEvent{false, text}));
      CHECK(terminal_safe(line, true));
      std::string shown = c.input.find('\n') == std::string::npos ? c.text : c.input;
      CHECK(line ==
            "trace direction=received\nReceived Frame: CONNECTION_CLOSE\n    reason: " + shown);
    }
  }
  SUBCASE("summary lines") {
    for (const auto& c : cases) {
      CAPTURE(c.name);
      std::string lines = cli::text_lines({{"close_reason", c.input}, {"close_code", uint64_t{5}}});
      CHECK(terminal_safe(lines, true));
      CHECK(lines == "  close_reason:     " + c.text + "\n  close_code:       5\n");
    }
  }
}

TEST_CASE("cli::format_json keeps JSON valid whatever the peer sent") {
  SUBCASE("close event") {
    for (const auto& c : cases) {
      CAPTURE(c.name);
      std::string line = cli::format_json(cli::record_of(close_with_reason(c.input)), 1500us);
      auto members = parse_json_object(line);
      REQUIRE(members);
      CHECK((*members)["reason"] == c.json_decoded);
      CHECK((*members)["event"] == "close");
      CHECK((*members)["t_ms"] == "1.500");
    }
  }
  SUBCASE("error event") {
    for (const auto& c : cases) {
      CAPTURE(c.name);
      std::string message = "peer closed the connection: application error 0x5 (" + c.input + ")";
      std::string line =
          cli::format_json(cli::record_of(ErrorEvent{{Status::peer_app_error, message}}), 0us);
      auto members = parse_json_object(line);
      REQUIRE(members);
      CHECK((*members)["message"] ==
            "peer closed the connection: application error 0x5 (" + c.json_decoded + ")");
    }
  }
  SUBCASE("trace event") {
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto members =
          parse_json_object(cli::format_json(cli::record_of(TraceEvent{true, c.input}), 0us));
      REQUIRE(members);
      CHECK((*members)["text"] == c.json_decoded);
    }
  }
}

TEST_CASE("cli::stats_text and cli::stats_json escape the summary") {
  for (const auto& c : cases) {
    CAPTURE(c.name);
    NullSink null;
    cli::StatsCollector stats(null);
    HandshakeDoneEvent done;
    done.alpn = c.input;
    done.peer_subject = "/CN=" + c.input;
    stats.on_event({1ms, done});
    stats.on_event({2ms, close_with_reason(c.input)});
    auto summary = stats.summary({Status::peer_app_error, "reason (" + c.input + ")"}, 5);

    std::string text = cli::stats_text(summary);
    CHECK(terminal_safe(text, true));
    CHECK(text.find("\n  close_reason:     " + c.text + "\n") != std::string::npos);
    CHECK(text.find("\n  peer_subject:     /CN=" + c.text + "\n") != std::string::npos);
    CHECK(text.find("\n  error:            reason (" + c.text + ")\n") != std::string::npos);

    auto members = parse_json_object(cli::stats_json(summary));
    REQUIRE(members);
    CHECK((*members)["close_reason"] == c.json_decoded);
    CHECK((*members)["alpn"] == c.json_decoded);
    CHECK((*members)["peer_subject"] == "/CN=" + c.json_decoded);
    CHECK((*members)["error"] == "reason (" + c.json_decoded + ")");
    CHECK((*members)["exit_code"] == "5");
  }
}

TEST_CASE("cli::format_text quotes values that need it") {
  struct Quoting {
    std::string reason;
    std::string shown;
  };
  const Quoting table[] = {
      {"bye", "bye"},
      {"", "\"\""},
      {"two words", "\"two words\""},
      {"a=b", "\"a=b\""},
      {"say \"hi\"", "\"say \\\"hi\\\"\""},
      {"line\nbreak", "\"line\\x0abreak\""},
      {"\x1b[2J", "\"\\x1b[2J\""},
      // Plain values are literal text: a backslash in one is a backslash, and a peer's literal
      // "\x1b" stays apart from a real ESC, which is always quoted.
      {"C:\\path", "C:\\path"},
      {"\\x1b", "\\x1b"},
      // Inside quotes every backslash starts an escape.
      {"C:\\my path", "\"C:\\\\my path\""},
  };
  for (const auto& q : table) {
    CAPTURE(q.reason);
    CHECK(cli::format_text(cli::record_of(close_with_reason(q.reason))) ==
          "close by=peer kind=application code=5 frame_type=0 reason=" + q.shown +
              " bytes_in=0 bytes_out=0 bytes_unacked=0");
  }
}

TEST_CASE("cli::format_json escapes") {
  struct Escape {
    std::string reason;
    std::string json;
  };
  const Escape table[] = {
      {"bye", "\"bye\""},
      {"q\"b\\", "\"q\\\"b\\\\\""},
      {"\n\r\t", "\"\\n\\r\\t\""},
      {"\x1b\x07\x7f"s + '\0', "\"\\u001b\\u0007\\u007f\\u0000\""},
      {"\xc2\x9b", "\"\\u009b\""},
      {"\xff", "\"" + fffd + "\""},
      {"\xe2\x82\xac", "\"\xe2\x82\xac\""},  // the euro sign passes through
  };
  for (const auto& e : table) {
    CAPTURE(e.reason);
    std::string line = cli::format_json(cli::record_of(close_with_reason(e.reason)), 0us);
    CHECK(line.find(",\"reason\":" + e.json + ",") != std::string::npos);
  }
}

TEST_CASE("cli::notice_text keeps the fixed shapes scripts look for") {
  CHECK(cli::notice_text(ListeningEvent{"127.0.0.1:4433"}) == "listening on 127.0.0.1:4433");
  CHECK(cli::notice_text(CertificateEvent{"AB:CD", true}) ==
        "certificate sha256 fingerprint AB:CD (ephemeral, self-signed)");
  CHECK(cli::notice_text(ErrorEvent{{Status::timeout, "no data within 3s"}}) ==
        "error: no data within 3s");
  CHECK(cli::notice_text(InputClosedEvent{}).empty());
}

TEST_CASE("cli::notice_text shows the peer's extra streams, their bytes escaped") {
  auto shown = [](PeerStreamChange change, std::string text, std::optional<uint64_t> code,
                  uint64_t bytes = 0) {
    return cli::notice_text(PeerStreamEvent{4, change, std::move(text), code, bytes});
  };
  CHECK(shown(PeerStreamChange::text, "hi \x1b[2J\0!"s, {}) == "stream 4: hi \\x1b[2J\\x00!");
  CHECK(shown(PeerStreamChange::text, "\xff\x9b", {}) == "stream 4: \\xff\\x9b");
  CHECK(shown(PeerStreamChange::rejected, "", 7) == "stream 4 rejected (code 0x7)");
  CHECK(shown(PeerStreamChange::saving, "d/stream-4", {}) == "stream 4: saving to d/stream-4");
  CHECK(shown(PeerStreamChange::ended, "", {}, 12) == "stream 4 ended: FIN after 12 bytes");
  CHECK(shown(PeerStreamChange::ended, "d/stream-4", 0x10, 3) ==
        "stream 4 ended: reset by the peer (code 0x10) after 3 bytes, saved to d/stream-4");
  // In JSON the bytes stay one valid string.
  std::string line = cli::format_json(
      cli::record_of(PeerStreamEvent{4, PeerStreamChange::text, "a\x1b\0\xff"s, {}, 0}), 0us);
  CHECK(line == R"({"t_ms":0.000,"event":"peer_stream","id":4,"change":"text","text":"a\u001b\u0000)"
                "\xef\xbf\xbd" R"("})");  // U+FFFD for the byte that is not UTF-8
}

TEST_CASE("cli::LogSink: events about one connection name it") {
  Event event{std::chrono::microseconds(0), WarningEvent{"stream 0: GET /x: refused"}, 3};
  CHECK(cli::notice_text(event) == "warning: stream 0: GET /x: refused (connection 3)");
  cli::EventRecord record = cli::record_of(event);
  CHECK(cli::format_json(record, std::chrono::microseconds(0)).find("\"connection\":3}") !=
        std::string::npos);
  CHECK(cli::format_text(cli::record_of(Event{{}, ConnectionAcceptedEvent{2, "127.0.0.1:5"}, {}})) ==
        "connection_accepted index=2 peer=127.0.0.1:5");
  CHECK(cli::notice_text(StreamReportEvent{0, 104857600, std::chrono::microseconds(1230000)}) ==
        "stream 0: 104857600 bytes in 1.23 s (85.3 MB/s)");
}

TEST_CASE("cli::StatsCollector: when each phase ended, the first byte's first") {
  NullSink null;
  cli::StatsCollector stats(null);
  auto field = [](const std::vector<cli::Field>& fields, std::string_view key) {
    for (const auto& f : fields)
      if (f.key == key) return std::optional<cli::FieldValue>(f.value);
    return std::optional<cli::FieldValue>();
  };
  // No data from the peer: no time to first byte.
  CHECK_FALSE(field(stats.summary({}, 0), "t_first_byte_ms"));
  stats.on_event({1000us, ResolvedEvent{}});
  stats.on_event({2500us, HandshakeStartEvent{"127.0.0.1:4433", 1, 1}});
  stats.on_event({7000us, HandshakeDoneEvent{}});
  stats.on_event({9250us, FirstByteEvent{0}});
  stats.on_event({12000us, FirstByteEvent{4}});  // a later stream's (--get): not the run's
  auto summary = stats.summary({}, 0);
  CHECK(std::get<double>(*field(summary, "t_resolved_ms")) == 1.0);
  CHECK(std::get<double>(*field(summary, "t_connect_ms")) == 2.5);
  CHECK(std::get<double>(*field(summary, "t_handshake_ms")) == 7.0);
  CHECK(std::get<double>(*field(summary, "t_first_byte_ms")) == 9.25);
  CHECK(cli::format_text(cli::record_of(FirstByteEvent{8})) == "first_byte id=8");
  CHECK(cli::notice_text(FirstByteEvent{8}).empty());
}

TEST_CASE("cli::notice_text: a status line (SIGUSR1)") {
  StatusEvent status{2'000'000, 500'000, 2s, 3};
  CHECK(cli::notice_text(status) ==
        "status: 2000000 bytes in (1.0 MB/s), 500000 bytes out (0.2 MB/s), 2.0 s, 3 streams open");
  CHECK(cli::format_text(cli::record_of(status)) ==
        "status bytes_in=2000000 bytes_out=500000 elapsed_ms=2000.000 streams=3");
  status.streams = 1;
  CHECK(cli::notice_text(status).ends_with(", 2.0 s, 1 stream open"));
}

TEST_CASE("progress_text: bytes and rates in decimal units, whole seconds") {
  CHECK(quicc::cli::progress_text(0, 0, 0, 0, 1.2) == "in 0 B (0 B/s), out 0 B (0 B/s), 1 s");
  CHECK(quicc::cli::progress_text(1'234'567, 999, 600'000, 12.5, 61.6) ==
        "in 1.2 MB (600.0 kB/s), out 999 B (12 B/s), 62 s");
  CHECK(quicc::cli::progress_text(3'000'000'000, 0, 1e9, 0, 3) ==
        "in 3.0 GB (1.0 GB/s), out 0 B (0 B/s), 3 s");
}
