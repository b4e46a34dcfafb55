// StreamPolicy: one stream's rules, as a table: when its transfer is over for each --on-eof,
// and what the contract calls lost.
#include <doctest/doctest.h>

#include "core/stream_policy.hpp"

using namespace quicc;

TEST_CASE("StreamPolicy::finished per --on-eof") {
  struct Row {
    EofPolicy eof;
    bool fin_sent, reset_sent, fin_received;
    uint64_t received, written;
    bool finished;
  };
  const Row rows[] = {
      {EofPolicy::fin, true, false, true, 9, 9, true},
      {EofPolicy::fin, true, false, true, 9, 8, false},
      {EofPolicy::fin, false, false, true, 9, 9, false},
      {EofPolicy::fin, true, false, false, 9, 9, false},
      {EofPolicy::close, true, false, false, 0, 0, true},
      {EofPolicy::close, false, false, true, 9, 9, false},
      // What arrived is written out before a close overtakes it (--send-only discards it, but
      // to /dev/null, like any other output).
      {EofPolicy::close, true, false, false, 9, 7, false},
      {EofPolicy::close, true, false, false, 9, 9, true},
      {EofPolicy::reset, false, true, false, 0, 0, true},
      {EofPolicy::reset, false, true, false, 5, 4, false},
      {EofPolicy::ignore, false, false, true, 9, 9, true},
      {EofPolicy::ignore, false, false, false, 9, 9, false},
  };
  for (const Row& r : rows) {
    CAPTURE(static_cast<int>(r.eof));
    CAPTURE(r.fin_sent);
    CAPTURE(r.fin_received);
    StreamPolicy p({Role::client, r.eof, 0});
    StreamFacts f;
    f.stream_open = true;
    f.fin_sent = r.fin_sent;
    f.reset_sent = r.reset_sent;
    f.fin_received = r.fin_received;
    f.received = r.received;
    f.written = r.written;
    CHECK(p.finished(f) == r.finished);
  }
}

TEST_CASE("StreamPolicy::verdict") {
  struct Row {
    const char* name;
    bool peer_closed, fin_received;
    uint64_t received, written, read, sent, unacked;
    Status status;
  };
  const Row rows[] = {
      {"all delivered", true, true, 5, 5, 3, 3, 0, Status::ok},
      {"peer sent nothing", true, false, 0, 0, 3, 3, 0, Status::ok},
      {"cut before the FIN", true, false, 5, 5, 0, 0, 0, Status::incomplete},
      {"the same, ended by us: the user chose not to wait", false, false, 5, 5, 0, 0, 0, Status::ok},
      {"not all written out", false, true, 5, 4, 0, 0, 0, Status::incomplete},
      {"input read, never sent", true, true, 0, 0, 9, 3, 0, Status::incomplete},
      {"peer closed, ours unacknowledged", true, true, 0, 0, 3, 3, 3, Status::incomplete},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    StreamPolicy p({Role::client, EofPolicy::fin, 0});
    StreamFacts f;
    f.stream_open = true;
    f.fin_received = r.fin_received;
    f.received = r.received;
    f.written = r.written;
    f.input_read = r.read;
    f.sent = r.sent;
    f.unacked = r.unacked;
    CHECK(p.verdict(f, r.peer_closed).status == r.status);
  }
}

TEST_CASE("StreamPolicy: a clean close after a complete exchange forgives the last ACK") {
  StreamPolicy p({Role::client, EofPolicy::fin, 0});
  StreamFacts f;
  f.stream_open = true;
  f.input_read = f.sent = 100;
  f.unacked = 40;
  f.fin_sent = true;
  f.received = f.written = 7;
  f.fin_received = true;
  // The peer's FIN came before ours was sent: it did not wait for our data.
  f.peer_fin_after_ours = false;
  CHECK(p.verdict(f, true).status == Status::incomplete);
  // It finished its side after ours: it had read our FIN, and the data before it.
  f.peer_fin_after_ours = true;
  CHECK(p.verdict(f, true).ok());
  // Without our FIN there is no exchange to speak for the data.
  f.fin_sent = false;
  CHECK(p.verdict(f, true).status == Status::incomplete);
}

TEST_CASE("StreamPolicy: --expect, per --on-eof and mode") {
  // The peer has sent 9 bytes, all written out, no FIN; our side is done (FIN or reset sent).
  struct Row {
    EofPolicy eof;
    ExpectMode expect;
    bool met;
    bool fin_received;
    bool read_stream;  // what next() asks for
    bool finished;
  };
  const Row rows[] = {
      // Without --expect: as before.
      {EofPolicy::fin, ExpectMode::none, false, false, true, false},
      {EofPolicy::close, ExpectMode::none, false, false, true, true},
      // A match stands for the peer's FIN: reading stops, the transfer is over.
      {EofPolicy::fin, ExpectMode::stop_at_match, true, false, false, true},
      {EofPolicy::ignore, ExpectMode::stop_at_match, true, false, false, true},
      {EofPolicy::close, ExpectMode::stop_at_match, true, false, false, true},
      {EofPolicy::reset, ExpectMode::stop_at_match, true, false, false, true},
      // Not met yet: reading goes on; close and reset wait for the match too.
      {EofPolicy::fin, ExpectMode::stop_at_match, false, false, true, false},
      {EofPolicy::close, ExpectMode::stop_at_match, false, false, true, false},
      {EofPolicy::reset, ExpectMode::stop_at_match, false, false, true, false},
      // ... or for the end of the peer's data, which settles them either way.
      {EofPolicy::close, ExpectMode::stop_at_match, false, true, false, true},
      {EofPolicy::fin, ExpectMode::stop_at_match, false, true, false, true},
      // --expect-close: a match changes nothing, the peer's FIN ends reading.
      {EofPolicy::fin, ExpectMode::read_to_end, true, false, true, false},
      {EofPolicy::close, ExpectMode::read_to_end, true, false, true, false},
      {EofPolicy::fin, ExpectMode::read_to_end, true, true, false, true},
      {EofPolicy::close, ExpectMode::read_to_end, false, true, false, true},
  };
  for (const Row& r : rows) {
    CAPTURE(static_cast<int>(r.eof));
    CAPTURE(static_cast<int>(r.expect));
    CAPTURE(r.met);
    CAPTURE(r.fin_received);
    StreamPolicy p({Role::client, r.eof, 0, r.expect});
    StreamFacts f;
    f.stream_open = true;
    f.input_eof = true;
    f.fin_sent = r.eof != EofPolicy::reset;
    f.reset_sent = r.eof == EofPolicy::reset;
    f.received = f.written = 9;
    f.expect_met = r.met;
    f.fin_received = f.read_ended = r.fin_received;
    CHECK(p.next(f).read_stream == r.read_stream);
    CHECK(p.finished(f) == r.finished);
  }
}

TEST_CASE("StreamPolicy: a match waits for its bytes to be written out") {
  StreamPolicy p({Role::client, EofPolicy::fin, 0, ExpectMode::stop_at_match});
  StreamFacts f;
  f.stream_open = true;
  f.input_eof = f.fin_sent = true;
  f.expect_met = true;
  f.received = 9;
  f.written = 4;
  CHECK_FALSE(p.finished(f));
  f.written = 9;
  CHECK(p.finished(f));
}

TEST_CASE("StreamPolicy::verdict: data left unread after a match is no loss") {
  StreamFacts f;
  f.stream_open = true;
  f.input_eof = f.fin_sent = true;
  f.received = f.written = 9;
  f.expect_met = true;
  // The peer closes before its FIN: with the match, the rest was not wanted.
  CHECK(StreamPolicy({Role::client, EofPolicy::fin, 0, ExpectMode::stop_at_match})
            .verdict(f, true)
            .ok());
  // With --expect-close the FIN was wanted: it is missing.
  CHECK(StreamPolicy({Role::client, EofPolicy::fin, 0, ExpectMode::read_to_end})
            .verdict(f, true)
            .status == Status::incomplete);
}

TEST_CASE("StreamPolicy: a match ends reading only once our input is sent and acknowledged") {
  // A peer that echoes stops reading our data while its own sending is blocked by our flow
  // control: reading on until our input is out, and acknowledged, keeps it going.
  StreamPolicy p({Role::client, EofPolicy::fin, 0, ExpectMode::stop_at_match});
  StreamFacts f;
  f.stream_open = true;
  f.expect_met = true;
  f.received = f.written = 9;
  f.input_read = 100;
  f.sent = 60;
  CHECK(p.next(f).read_stream);
  CHECK_FALSE(p.finished(f));
  f.sent = 100;  // all sent, but the input has not ended
  CHECK(p.next(f).read_stream);
  f.input_eof = true;
  f.unacked = 40;  // handed to the stream, not all acknowledged yet
  StreamStep s = p.next(f);
  CHECK(s.read_stream);
  CHECK(s.send_fin);
  f.fin_sent = true;
  CHECK_FALSE(p.finished(f));
  f.unacked = 0;
  CHECK_FALSE(p.next(f).read_stream);
  CHECK(p.finished(f));
}

TEST_CASE("StreamPolicy: a peer's reset after ours answers it; before ours, or with a code, it fails") {
  // --on-eof reset:7 against an echo peer: the peer frees its stream once ours is reset, and
  // OpenSSL resets its half with code 0. observe() sees every snapshot: the order decides.
  auto run = [](bool peer_first, uint64_t peer_code) {
    StreamPolicy p({Role::client, EofPolicy::reset, 7});
    StreamFacts f;
    f.stream_open = true;
    f.input_eof = true;
    f.input_read = f.sent = 5;
    f.received = f.written = 5;
    if (peer_first) f.reset_received = peer_code;
    p.observe(f);
    StreamStep s = p.next(f);
    REQUIRE(s.reset_stream == std::optional<uint64_t>(7));
    f.reset_sent = true;
    p.observe(f);
    f.reset_received = peer_code;
    p.observe(f);
    CHECK(p.finished(f));
    return p.verdict(f, false).status;
  };
  CHECK(run(false, 0) == Status::ok);
  CHECK(run(true, 0) == Status::stream_reset);
  CHECK(run(false, 9) == Status::stream_reset);
}
