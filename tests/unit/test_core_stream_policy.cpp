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
      {EofPolicy::reset, false, true, false, 0, 0, true},
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
