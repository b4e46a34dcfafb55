// Pipe mode's extra streams (--peer-streams): what each mode does with a stream, as a table;
// how their bytes become log lines; what a reader shows or saves.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/extra_streams.hpp"

using namespace quicc;
using namespace std::string_literals;

TEST_CASE("ExtraStreamRules::opened per --peer-streams and direction") {
  struct Row {
    PeerStreams mode;
    bool bidi;
    ExtraStreamPlan plan;
  };
  const Row rows[] = {
      {PeerStreams::ignore, true, {.warn = true}},
      {PeerStreams::ignore, false, {.warn = true}},
      // Only a bidirectional stream has a sending half of ours to reset.
      {PeerStreams::reject, true, {.reset_code = 7, .stop_reading = true}},
      {PeerStreams::reject, false, {.stop_reading = true}},
      {PeerStreams::accept, true, {.read = true}},
      {PeerStreams::accept, false, {.read = true}},
  };
  for (const Row& r : rows) {
    CAPTURE(static_cast<int>(r.mode));
    CAPTURE(r.bidi);
    CHECK(ExtraStreamRules(r.mode, 7).opened(r.bidi) == r.plan);
  }
  CHECK(ExtraStreamRules::fin_ours_when_ended(true));
  CHECK_FALSE(ExtraStreamRules::fin_ours_when_ended(false));
}

TEST_CASE("PeerTextLines cuts bytes into lines") {
  PeerTextLines lines;
  CHECK(lines.add("ab").empty());
  CHECK(lines.add("c\nd\n\ne") == std::vector<std::string>{"abc", "d", ""});
  CHECK(lines.add("\0\x1b"s).empty());
  CHECK(lines.finish() == "e\0\x1b"s);
  CHECK_FALSE(lines.finish());

  SUBCASE("a line without end is shown in pieces") {
    std::string big(PeerTextLines::max_line * 2 + 5, 'x');
    auto out = lines.add(big);
    REQUIRE(out.size() == 2);
    CHECK(out[0].size() == PeerTextLines::max_line);
    CHECK(lines.finish() == std::string(5, 'x'));
  }
  SUBCASE("a line of exactly max_line keeps no empty line for its newline") {
    auto out = lines.add(std::string(PeerTextLines::max_line, 'y') + "\nz");
    CHECK(out == std::vector<std::string>{std::string(PeerTextLines::max_line, 'y')});
    CHECK(lines.finish() == "z");
  }
}

namespace {

class Recorder : public EventSink {
 public:
  void on_event(const Event& e) override {
    if (auto* p = std::get_if<PeerStreamEvent>(&e.data)) streams.push_back(*p);
    if (std::holds_alternative<WarningEvent>(e.data)) ++warnings;
  }
  std::vector<PeerStreamEvent> streams;
  int warnings = 0;
};

}  // namespace

TEST_CASE("ExtraStreamReader shows lines, or saves the bytes to output_dir/stream-ID") {
  Recorder sink;
  Emitter emitter(sink);
  const std::string bytes = "one\ntwo \x1b[2J\0"s;

  SUBCASE("on stderr: one event per line, the rest at the end, then the end") {
    {
      ExtraStreamReader reader(4, "", emitter);
      CHECK(reader.data(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
      reader.ended(std::nullopt);
    }
    REQUIRE(sink.streams.size() == 3);
    CHECK(sink.streams[0].text == "one");
    CHECK(sink.streams[1].text == "two \x1b[2J\0"s);
    CHECK(sink.streams[2].change == PeerStreamChange::ended);
    CHECK(sink.streams[2].bytes == bytes.size());
    CHECK_FALSE(sink.streams[2].code);
  }
  SUBCASE("to a file, byte for byte; a reset is reported with its code") {
    char dir[] = "/tmp/quicc-extra-XXXXXX";
    REQUIRE(mkdtemp(dir));
    std::string path = std::string(dir) + "/stream-6";
    {
      std::ofstream old(path);
      old << "older and longer content";
    }
    {
      ExtraStreamReader reader(6, dir, emitter);
      CHECK(reader.data(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
      reader.ended(0x11);
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream saved;
    saved << in.rdbuf();
    CHECK(saved.str() == bytes);  // truncated first
    REQUIRE(sink.streams.size() == 2);
    CHECK(sink.streams[0].change == PeerStreamChange::saving);
    CHECK(sink.streams[0].text == path);
    CHECK(sink.streams[1].change == PeerStreamChange::ended);
    CHECK(sink.streams[1].code == 0x11);
    CHECK(sink.streams[1].text == path);
    ::unlink(path.c_str());
    ::rmdir(dir);
  }
  SUBCASE("a file that cannot be created: a warning, and the stream is not read") {
    ExtraStreamReader reader(8, "/nonexistent-quicc-dir", emitter);
    CHECK(sink.warnings == 1);
    CHECK_FALSE(reader.data(reinterpret_cast<const unsigned char*>("x"), 1));
  }
}
