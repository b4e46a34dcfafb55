// Terminal sessions: what a typed line is (data or an escape command), where lines begin when
// the terminal gives them in pieces, and what each command makes the TransferPolicy do.
#include <doctest/doctest.h>

#include <thread>

#include "core/commands.hpp"
#include "core/transfer_policy.hpp"

using namespace quicc;
using namespace std::chrono_literals;

using Kind = TypedLine::Kind;
using Cmd = UserCommand::Kind;

TEST_CASE("parse_typed_line: commands, data and mistakes") {
  struct Row {
    const char* line;
    Kind kind;
    std::optional<Cmd> command;
    uint64_t code = 0;
    const char* reason_or_data = "";
  };
  const Row rows[] = {
      {"~.\n", Kind::command, Cmd::quit},
      {"~.", Kind::command, Cmd::quit},  // Ctrl-D after it, no newline
      {"~f\n", Kind::command, Cmd::fin},
      {"~k\n", Kind::command, Cmd::key_update},
      {"~k\r\n", Kind::command, Cmd::key_update},
      {"~i\n", Kind::command, Cmd::info},
      {"~l\n", Kind::command, Cmd::list},
      {"~r 7\n", Kind::command, Cmd::reset, 7},
      {"~r 0x1f\n", Kind::command, Cmd::reset, 0x1f},
      {"~c 5\n", Kind::command, Cmd::close, 5},
      {"~c 0x10 going  away now \n", Kind::command, Cmd::close, 0x10, "going  away now"},
      {"~n\n", Kind::command, Cmd::new_bidi},
      {"~u\n", Kind::command, Cmd::new_uni},
      {"~s\n", Kind::command, Cmd::use_stream},  // the pipe's stream
      {"~s 4\n", Kind::command, Cmd::use_stream, 4},
      {"~s 0x8\n", Kind::command, Cmd::use_stream, 8},
      {"~?\n", Kind::help, std::nullopt},
      // `~~` is a `~` of data; what is not a command is data as typed.
      {"~~\n", Kind::data, std::nullopt, 0, "~\n"},
      {"~~. not a quit\n", Kind::data, std::nullopt, 0, "~. not a quit\n"},
      {"~/notes.txt\n", Kind::data, std::nullopt, 0, "~/notes.txt\n"},
      {"~fin\n", Kind::data, std::nullopt, 0, "~fin\n"},
      {"~z\n", Kind::data, std::nullopt, 0, "~z\n"},
      {"~\n", Kind::data, std::nullopt, 0, "~\n"},
      {"hello ~.\n", Kind::data, std::nullopt, 0, "hello ~.\n"},
      // Mistakes are told, not sent.
      {"~r\n", Kind::error, std::nullopt},
      {"~r x\n", Kind::error, std::nullopt},
      {"~r 7 why\n", Kind::error, std::nullopt},
      {"~c\n", Kind::error, std::nullopt},
      {"~c 4611686018427387904\n", Kind::error, std::nullopt},  // 2^62
      {"~k now\n", Kind::error, std::nullopt},
      {"~n 4\n", Kind::error, std::nullopt},
      {"~s four\n", Kind::error, std::nullopt},
      {"~s 4 8\n", Kind::error, std::nullopt},
  };
  for (const Row& row : rows) {
    CAPTURE(row.line);
    TypedLine t = parse_typed_line(row.line);
    CHECK(t.kind == row.kind);
    if (row.kind == Kind::command) {
      CHECK(t.command.kind == *row.command);
      CHECK(t.command.code == row.code);
      CHECK(t.command.reason == row.reason_or_data);
      CHECK(t.command.has_stream == (row.command == Cmd::use_stream && row.code != 0));
    }
    if (row.kind == Kind::data) CHECK(t.data == row.reason_or_data);
    if (row.kind == Kind::error) CHECK(!t.error.empty());
  }
}

TEST_CASE("TypedInput: only a line that begins after a newline can be a command") {
  auto run = [](std::initializer_list<std::string_view> chunks, bool finish = false) {
    TypedInput typed;
    std::vector<TypedLine> out;
    for (auto c : chunks) typed.feed(c, out);
    if (finish) typed.finish(out);
    return out;
  };
  SUBCASE("a command between data lines") {
    auto out = run({"one\n~k\ntwo\n"});
    REQUIRE(out.size() == 3);
    CHECK(out[0].kind == Kind::data);
    CHECK(out[0].data == "one\n");
    CHECK(out[1].kind == Kind::command);
    CHECK(out[1].command.kind == Cmd::key_update);
    CHECK(out[2].data == "two\n");
  }
  SUBCASE("a ~ in the middle of a line, even at a chunk's start, is data") {
    auto out = run({"abc", "~.\n"});
    std::string data;
    for (auto& t : out) {
      CHECK(t.kind == Kind::data);
      data += t.data;
    }
    CHECK(data == "abc~.\n");
  }
  SUBCASE("a command line split across chunks is held until its newline") {
    auto out = run({"~", "r 4", "2\n", "x"});
    REQUIRE(out.size() == 2);
    CHECK(out[0].kind == Kind::command);
    CHECK(out[0].command.kind == Cmd::reset);
    CHECK(out[0].command.code == 42);
    CHECK(out[1].data == "x");
  }
  SUBCASE("data without a newline goes at once") {
    auto out = run({"no newline"});
    REQUIRE(out.size() == 1);
    CHECK(out[0].data == "no newline");
  }
  SUBCASE("a held line at the end of the input is parsed") {
    auto out = run({"~."}, true);
    REQUIRE(out.size() == 1);
    CHECK(out[0].command.kind == Cmd::quit);
  }
  SUBCASE("a held line longer than 4096 bytes is data") {
    std::string long_line = "~" + std::string(5000, 'a');
    auto out = run({long_line, "\n~.\n"});
    std::string data;
    for (auto& t : out)
      if (t.kind == Kind::data) data += t.data;
    CHECK(data == long_line + "\n");
    CHECK(out.back().kind == Kind::command);
  }
  SUBCASE("binary bytes pass unchanged") {
    std::string bytes("\0\xff~\n\x7f", 5);
    auto out = run({bytes});
    std::string data;
    for (auto& t : out) data += t.data;
    CHECK(data == bytes);
  }
}

namespace {

const Clock::time_point t0 = Clock::time_point() + 1000s;

PipeFacts at_eof(uint64_t sent) {
  PipeFacts f;
  f.stream_open = true;
  f.input_eof = true;
  f.input_read = f.sent = sent;
  f.last_activity = t0;
  return f;
}

UserCommand command(Cmd kind, uint64_t code = 0, std::string reason = "") {
  UserCommand c;
  c.kind = kind;
  c.code = code;
  c.reason = std::move(reason);
  return c;
}

}  // namespace

TEST_CASE("CommandQueue: ~n ~u ~s wait for the driver's answer, or for the session's end") {
  CommandQueue queue(-1);
  std::optional<StreamChoice> got;
  std::thread reader([&] {
    UserCommand command;
    command.kind = Cmd::new_bidi;
    got = queue.push_and_wait(command);
  });
  while (!queue.pending()) std::this_thread::sleep_for(1ms);
  auto taken = queue.take();
  REQUIRE(taken.size() == 1);
  CHECK(taken[0].kind == Cmd::new_bidi);
  queue.answer({true, false});
  reader.join();
  REQUIRE(got);
  CHECK(got->ok);
  CHECK(!got->pipe);
  // The session ends before an answer: the reader is let go.
  std::thread waiting([&] { got = queue.push_and_wait(UserCommand{}); });
  while (!queue.pending()) std::this_thread::sleep_for(1ms);
  queue.shut();
  waiting.join();
  CHECK(!got);
}

TEST_CASE("TransferPolicy: the stream commands leave the pipe's rules alone") {
  for (Cmd kind : {Cmd::new_bidi, Cmd::new_uni, Cmd::use_stream, Cmd::send_data}) {
    CAPTURE(static_cast<int>(kind));
    for (PipeFacts f : {PipeFacts{}, at_eof(3)}) {
      TransferPolicy given(TransferPolicy::Settings{}), baseline(TransferPolicy::Settings{});
      CHECK(given.command(command(kind)));
      Step a = given.decide(f, t0), b = baseline.decide(f, t0);
      CHECK(a.send_fin == b.send_fin);
      CHECK(a.reset_stream == b.reset_stream);
      CHECK(a.close.has_value() == b.close.has_value());
      CHECK(a.key_update == b.key_update);
      CHECK(a.done == b.done);
    }
  }
}

TEST_CASE("TransferPolicy: escape commands decide what the input's EOF does") {
  struct Row {
    Cmd kind;
    EofPolicy on_eof;  // the user's --on-eof, overridden by the command
    bool fin;
    std::optional<uint64_t> reset;
    bool closes_when_acked;  // the transfer is over without the peer's FIN
  };
  const Row rows[] = {
      {Cmd::fin, EofPolicy::close, true, std::nullopt, false},
      {Cmd::fin, EofPolicy::ignore, true, std::nullopt, false},
      {Cmd::reset, EofPolicy::fin, false, 9, true},
      {Cmd::quit, EofPolicy::fin, true, std::nullopt, true},
      {Cmd::quit, EofPolicy::ignore, true, std::nullopt, true},
  };
  for (const Row& row : rows) {
    CAPTURE(static_cast<int>(row.kind));
    CAPTURE(static_cast<int>(row.on_eof));
    TransferPolicy::Settings s;
    s.on_eof = row.on_eof;
    TransferPolicy p(s);
    CHECK(p.command(command(row.kind, 9)));
    PipeFacts f = at_eof(10);
    Step step = p.decide(f, t0);
    CHECK(step.send_fin == row.fin);
    CHECK(step.reset_stream == row.reset);
    // Our side ended and was acknowledged, the peer has not finished.
    if (row.fin) f.fin_sent = true;
    if (row.reset) f.reset_sent = f.reset_left = true;
    step = p.decide(f, t0 + 1s);
    if (row.reset) step = p.decide(f, t0 + 2s);  // past the linger
    CHECK(step.close.has_value() == row.closes_when_acked);
  }
}

TEST_CASE("TransferPolicy: ~f after our side ended does nothing; ~. then closes") {
  TransferPolicy p(TransferPolicy::Settings{});
  PipeFacts f = at_eof(3);
  Step step = p.decide(f, t0);
  REQUIRE(step.send_fin);
  f.fin_sent = true;
  CHECK_FALSE(p.command(command(Cmd::fin)));
  CHECK_FALSE(p.decide(f, t0).close);
  CHECK(p.command(command(Cmd::quit)));
  step = p.decide(f, t0);
  REQUIRE(step.close);
  CHECK(step.close->code == 0);
  CHECK(step.close->flush);
  CHECK_FALSE(step.close->rapid);
}

TEST_CASE("TransferPolicy: ~c closes now with the code and reason given, waiting for our data") {
  TransferPolicy p(TransferPolicy::Settings{});
  PipeFacts f;
  f.stream_open = true;
  f.input_read = f.sent = 100;
  f.unacked = 40;
  f.last_activity = t0;
  CHECK(p.command(command(Cmd::close, 0x42, "bye now")));
  Step step = p.decide(f, t0);
  REQUIRE(step.close);
  CHECK(step.close->code == 0x42);
  CHECK(step.close->reason == "bye now");
  CHECK(step.close->flush);
  // The close waited and everything was acknowledged: a success.
  f.unacked = 0;
  p.close_finished(std::nullopt);
  step = p.decide(f, t0 + 1s);
  REQUIRE(step.done);
  CHECK(p.outcome().ok());
  // Once closing, commands are too late.
  CHECK_FALSE(p.command(command(Cmd::key_update)));
}

TEST_CASE("TransferPolicy: ~k asks for one key update once it is safe") {
  TransferPolicy p(TransferPolicy::Settings{});
  PipeFacts f;
  f.stream_open = true;
  f.last_activity = t0;
  f.key_update_safe = false;
  CHECK(p.command(command(Cmd::key_update)));
  CHECK_FALSE(p.decide(f, t0).key_update);
  f.key_update_safe = true;
  CHECK(p.decide(f, t0).key_update);
  p.key_update_requested();
  CHECK_FALSE(p.decide(f, t0).key_update);
  CHECK(p.command(command(Cmd::key_update)));
  CHECK(p.decide(f, t0).key_update);
}
