// TransferPolicy: the session rules of pipe mode, as tables of situations and what the policy
// must answer. No I/O: facts in, steps and outcomes out.
#include <doctest/doctest.h>

#include <csignal>

#include "core/transfer_policy.hpp"

using namespace quicc;
using namespace std::chrono_literals;

namespace {

const Clock::time_point t0 = Clock::time_point() + 1000s;

TransferPolicy::Settings settings(EofPolicy eof, Role role = Role::client) {
  TransferPolicy::Settings s;
  s.role = role;
  s.on_eof = eof;
  s.eof_reset_code = 7;
  return s;
}

// Facts of a transfer in which `out` bytes were read and sent, `in` received and written.
PipeFacts moved(uint64_t out, uint64_t in) {
  PipeFacts f;
  f.stream_open = true;
  f.input_read = f.sent = out;
  f.received = f.written = in;
  f.last_activity = t0;
  return f;
}

CloseInfo peer_close(uint64_t code = 0, bool transport = false) {
  CloseInfo c;
  c.local = false;
  c.transport = transport;
  c.code = code;
  return c;
}

// Drives a close the policy asked for to its end, as a driver whose close completes at once.
Outcome finish_close(TransferPolicy& p, const PipeFacts& f, Clock::time_point now) {
  p.close_finished(std::nullopt);
  p.close_frame_sent();
  Step s = p.decide(f, now);
  REQUIRE(s.done);
  return p.outcome();
}

}  // namespace

TEST_CASE("TransferPolicy: what input EOF does, per --on-eof") {
  struct Row {
    EofPolicy eof;
    Role role;
    bool stream_open;
    uint64_t sent;
    bool fin;
    std::optional<uint64_t> reset;
  };
  // An input at EOF with everything read already sent.
  const Row rows[] = {
      {EofPolicy::fin, Role::client, true, 10, true, {}},
      {EofPolicy::fin, Role::client, false, 0, true, {}},     // empty input: FIN on a new stream
      {EofPolicy::fin, Role::listener, false, 0, false, {}},  // listener: no stream just for it
      {EofPolicy::fin, Role::listener, true, 0, true, {}},
      {EofPolicy::close, Role::client, true, 10, true, {}},
      {EofPolicy::close, Role::client, false, 0, false, {}},  // pure handshake check
      {EofPolicy::reset, Role::client, true, 10, false, 7},
      {EofPolicy::reset, Role::client, false, 0, false, 7},
      {EofPolicy::reset, Role::listener, false, 0, false, {}},
      {EofPolicy::ignore, Role::client, true, 10, false, {}},
  };
  for (const Row& r : rows) {
    CAPTURE(static_cast<int>(r.eof));
    CAPTURE(static_cast<int>(r.role));
    CAPTURE(r.stream_open);
    TransferPolicy p(settings(r.eof, r.role));
    PipeFacts f = moved(r.sent, 0);
    f.stream_open = r.stream_open;
    f.input_eof = true;
    Step s = p.decide(f, t0);
    CHECK(s.send_fin == r.fin);
    CHECK(s.reset_stream == r.reset);
    CHECK_FALSE(s.read_input);
    // Asked once: the same facts again ask for nothing new.
    Step again = p.decide(f, t0);
    CHECK_FALSE(again.send_fin);
    CHECK_FALSE(again.reset_stream);
  }
}

TEST_CASE("TransferPolicy: bytes read but not yet sent hold the EOF action back") {
  TransferPolicy p(settings(EofPolicy::fin));
  PipeFacts f = moved(10, 0);
  f.input_read = 20;
  f.input_eof = true;
  Step s = p.decide(f, t0);
  CHECK_FALSE(s.send_fin);
  f.sent = 20;
  CHECK(p.decide(f, t0).send_fin);
}

TEST_CASE("TransferPolicy: when a transfer is over, per --on-eof") {
  struct Row {
    EofPolicy eof;
    bool fin_sent, reset_sent, fin_received;
    uint64_t received, written;
    bool closes;
  };
  const Row rows[] = {
      {EofPolicy::fin, true, false, true, 5, 5, true},
      {EofPolicy::fin, true, false, false, 5, 5, false},  // waits for the peer's FIN
      {EofPolicy::fin, true, false, true, 5, 3, false},   // and for the output to take it all
      {EofPolicy::fin, false, false, true, 5, 5, false},  // our side still open
      {EofPolicy::close, true, false, false, 5, 5, true},
      {EofPolicy::ignore, false, false, true, 5, 5, true},  // the peer's FIN ends it
      {EofPolicy::ignore, false, false, false, 5, 5, false},
  };
  for (const Row& r : rows) {
    CAPTURE(static_cast<int>(r.eof));
    CAPTURE(r.fin_sent);
    CAPTURE(r.fin_received);
    TransferPolicy p(settings(r.eof));
    PipeFacts f = moved(10, r.received);
    f.written = r.written;
    f.input_eof = true;
    p.decide(f, t0);  // the EOF action
    f.fin_sent = r.fin_sent;
    f.reset_sent = r.reset_sent;
    f.fin_received = r.fin_received;
    f.read_ended = r.fin_received;
    Step s = p.decide(f, t0);
    CHECK(s.close.has_value() == r.closes);
    if (r.closes) {
      CHECK(s.close->code == 0);
      CHECK(s.close->flush);
      CHECK_FALSE(s.close->rapid);
      CHECK(finish_close(p, f, t0).ok());
    }
  }
}

TEST_CASE("TransferPolicy: --on-eof reset lingers before it closes") {
  TransferPolicy p(settings(EofPolicy::reset));
  PipeFacts f = moved(10, 0);
  f.input_eof = true;
  CHECK(p.decide(f, t0).reset_stream == 7);
  f.reset_sent = true;
  Step s = p.decide(f, t0);
  CHECK_FALSE(s.close);
  REQUIRE(s.wake);
  CHECK(*s.wake == t0 + 50ms);
  s = p.decide(f, t0 + 50ms);
  REQUIRE(s.close);
  CHECK(finish_close(p, f, t0 + 60ms).ok());
}

TEST_CASE("TransferPolicy: --on-eof reset: the peer's reset that answers ours is no failure") {
  // The echo's reset (code 0, after ours) arrives while its data is still being written out.
  auto run = [](uint64_t peer_code) {
    TransferPolicy p(settings(EofPolicy::reset));
    PipeFacts f = moved(5, 5);
    f.written = 3;
    f.input_eof = true;
    CHECK(p.decide(f, t0).reset_stream == 7);
    f.reset_sent = true;
    p.decide(f, t0);
    f.reset_received = peer_code;
    f.read_ended = true;
    Step s = p.decide(f, t0 + 1ms);
    f.written = 5;
    for (auto now = t0 + 2ms; !s.close && now < t0 + 200ms; now += 10ms) s = p.decide(f, now);
    REQUIRE(s.close);
    return finish_close(p, f, t0 + 300ms);
  };
  CHECK(run(0).ok());
  Outcome own = run(9);
  CHECK(own.status == Status::stream_reset);
  CHECK(own.message == "peer reset the stream (code 0x9)");
}

TEST_CASE("TransferPolicy: the peer closes the connection") {
  struct Row {
    const char* name;
    CloseInfo close;
    bool fin_received;
    uint64_t received, unacked, unsent;
    Status status;
    const char* message;
  };
  const Row rows[] = {
      {"clean, after its FIN", peer_close(), true, 100, 0, 0, Status::ok, ""},
      {"clean, sent nothing", peer_close(), false, 0, 0, 0, Status::ok, ""},
      {"clean, before its FIN", peer_close(), false, 100, 0, 0, Status::incomplete,
       "peer closed the connection before its FIN, after 100 bytes"},
      {"clean, our data unacknowledged", peer_close(), true, 0, 30, 0, Status::incomplete,
       "peer closed the connection with 30 bytes we sent unacknowledged"},
      {"clean, our input unsent", peer_close(), true, 0, 0, 4, Status::incomplete,
       "4 bytes of input were never sent: the connection closed first"},
      {"application error", peer_close(5), true, 100, 0, 0, Status::peer_app_error,
       "peer closed the connection: application error 0x5"},
      {"transport error", peer_close(0xa, true), true, 100, 0, 0, Status::peer_transport_error,
       "peer closed the connection: transport error 0xa PROTOCOL_VIOLATION"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    TransferPolicy p(settings(EofPolicy::fin));
    PipeFacts f = moved(50, r.received);
    f.unacked = r.unacked;
    f.input_read += r.unsent;
    p.decide(f, t0);
    p.connection_closed(r.close);
    // Still readable: delivered first.
    Step s = p.decide(f, t0);
    CHECK(s.read_stream);
    CHECK_FALSE(s.done);
    CHECK_FALSE(s.close);
    f.fin_received = r.fin_received;
    f.read_ended = true;
    s = p.decide(f, t0);
    REQUIRE(s.done);
    CHECK(p.outcome().status == r.status);
    CHECK(p.outcome().message == r.message);
  }
}

TEST_CASE("TransferPolicy: after the peer closes, a write in progress is counted first") {
  // The blocking driver's sender between a write the stream took and its count (the peer,
  // which received the bytes, closed at once): the verdict waits for the count, at most 100 ms.
  for (bool counted : {true, false}) {
    CAPTURE(counted);
    TransferPolicy p(settings(EofPolicy::fin));
    PipeFacts f = moved(0, 10);
    f.fin_received = true;
    f.read_ended = true;
    f.input_read = 6;
    f.sending = true;
    p.connection_closed(peer_close());
    Step s = p.decide(f, t0);
    CHECK_FALSE(s.done);
    REQUIRE(s.wake);
    CHECK(*s.wake <= t0 + 2ms);
    s = p.decide(f, t0 + 50ms);
    CHECK_FALSE(s.done);
    if (counted) {
      f.sending = false;
      f.sent = 6;
      CHECK(p.decide(f, t0 + 60ms).done);
      CHECK(p.outcome().ok());
    } else {
      // A write that never returns: after 100 ms, the verdict with what was counted.
      s = p.decide(f, t0 + 100ms);
      REQUIRE(s.done);
      CHECK(p.outcome().message == "6 bytes of input were never sent: the connection closed first");
    }
  }
}

TEST_CASE("TransferPolicy: after the peer closes, a slow output still gets everything") {
  TransferPolicy p(settings(EofPolicy::fin));
  PipeFacts f = moved(0, 1000);
  f.written = 200;
  f.fin_received = true;
  f.read_ended = true;
  p.connection_closed(peer_close());
  for (uint64_t w = 200; w < 1000; w += 200) {
    f.written = w;
    Step s = p.decide(f, t0);
    CHECK(s.read_stream);
    CHECK_FALSE(s.done);
  }
  f.written = 1000;
  CHECK(p.decide(f, t0).done);
  CHECK(p.outcome().ok());
}

TEST_CASE("TransferPolicy: interrupts") {
  TransferPolicy::Settings s = settings(EofPolicy::fin);
  TransferPolicy p(s);
  PipeFacts f = moved(10, 10);  // everything acknowledged (see "clears the way" below)
  p.decide(f, t0);

  SUBCASE("first: graceful close, bounded; exit by the signal") {
    p.interrupted(SIGTERM, t0);
    Step st = p.decide(f, t0);
    REQUIRE(st.close);
    CHECK(st.close->code == close_code_interrupted);
    CHECK(st.close->reason == "interrupted");
    CHECK_FALSE(st.close->rapid);
    CHECK_FALSE(st.close->flush);
    REQUIRE(st.wake);
    CHECK(*st.wake == t0 + 500ms);
    p.close_finished(std::nullopt);
    CHECK(p.decide(f, t0 + 10ms).done);
    CHECK(p.outcome().status == Status::interrupted);
    CHECK(p.outcome().signal == SIGTERM);
  }
  SUBCASE("a close that outlives its limit turns rapid") {
    p.interrupted(SIGINT, t0);
    p.decide(f, t0);
    Step st = p.decide(f, t0 + 500ms);
    REQUIRE(st.close);
    CHECK(st.close->rapid);
    CHECK_FALSE(st.done);
    p.close_frame_sent();
    CHECK(p.decide(f, t0 + 501ms).done);
    CHECK(p.outcome().status == Status::interrupted);
  }
  SUBCASE("second: rapid at once") {
    p.interrupted(SIGINT, t0);
    p.decide(f, t0);
    p.interrupted(SIGINT, t0 + 1ms);
    Step st = p.decide(f, t0 + 1ms);
    REQUIRE(st.close);
    CHECK(st.close->rapid);
    // Without news of the CONNECTION_CLOSE leaving, the rapid close gives up on its own.
    CHECK_FALSE(p.decide(f, t0 + 100ms).done);
    CHECK(p.decide(f, t0 + 251ms).done);
    CHECK(p.outcome().signal == SIGINT);
  }
  SUBCASE("SIGHUP during a normal close") {
    PipeFacts done = f;
    done.input_eof = true;
    done.fin_sent = done.fin_received = done.read_ended = true;
    Step st = p.decide(done, t0);
    REQUIRE(st.close);
    p.interrupted(SIGHUP, t0 + 1ms);
    st = p.decide(done, t0 + 1ms);
    REQUIRE(st.close);
    CHECK(st.close->rapid);
    p.close_frame_sent();
    CHECK(p.decide(done, t0 + 2ms).done);
    CHECK(p.outcome().signal == SIGHUP);
  }
}

TEST_CASE("TransferPolicy: --shutdown rapid reports what was not acknowledged") {
  TransferPolicy::Settings s = settings(EofPolicy::close);
  s.shutdown.rapid = true;
  TransferPolicy p(s);
  PipeFacts f = moved(5'000'000, 0);
  f.input_eof = true;
  CHECK(p.decide(f, t0).send_fin);
  f.fin_sent = true;
  f.unacked = 700'000;
  Step st = p.decide(f, t0);
  CHECK(st.reset_stream == 0);  // clears the way first (see below)
  REQUIRE_FALSE(st.close);
  f.reset_sent = f.reset_left = true;
  st = p.decide(f, t0 + 1ms);
  REQUIRE(st.close);
  CHECK(st.close->rapid);
  CHECK_FALSE(st.close->flush);
  CHECK_FALSE(p.decide(f, t0 + 2ms).done);  // waits for its CONNECTION_CLOSE to leave
  p.close_frame_sent();
  CHECK(p.decide(f, t0 + 3ms).done);
  CHECK(p.outcome().status == Status::incomplete);
  CHECK(p.outcome().message ==
        "700000 bytes we sent were not acknowledged when the connection closed (--shutdown rapid)");

  TransferPolicy clean(s);
  f.unacked = 0;
  f.reset_sent = f.reset_left = false;
  clean.decide(f, t0);
  clean.close_frame_sent();
  CHECK(clean.decide(f, t0 + 1ms).done);
  CHECK(clean.outcome().ok());
}

TEST_CASE("TransferPolicy: failures and deadlines close with quicc's codes") {
  struct Row {
    const char* name;
    void (*mutate)(PipeFacts&);
    Clock::time_point now;
    Status status;
    uint64_t code;
    bool rapid;
  };
  const Row rows[] = {
      {"peer stopped reading", [](PipeFacts& f) { f.stopped = 9; }, t0, Status::stream_reset, 0,
       true},
      {"--timeout", [](PipeFacts&) {}, t0 + 10s, Status::timeout, close_code_timeout, false},
      {"--idle-exit", [](PipeFacts&) {}, t0 + 3s, Status::idle_timeout, close_code_timeout, false},
      {"input failed",
       [](PipeFacts& f) { f.local_error = Outcome{Status::io_error, "cannot read input"}; }, t0,
       Status::io_error, 0, false},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    TransferPolicy::Settings s = settings(EofPolicy::fin);
    s.run_deadline = t0 + 10s;
    s.timeout = 10s;
    s.idle_exit = 3s;
    TransferPolicy p(s);
    PipeFacts f = moved(1, 1);
    r.mutate(f);
    Step st = p.decide(f, r.now);
    REQUIRE(st.close);
    CHECK(st.close->code == r.code);
    CHECK(st.close->rapid == r.rapid);
    CHECK_FALSE(st.close->flush);
    Outcome o = finish_close(p, f, r.now);
    CHECK(o.status == r.status);
  }
}

TEST_CASE("TransferPolicy: every graceful close of a listener stays for the closing period") {
  // A listener that left at once closed its port under a client still sending: the client's
  // next packet drew an ICMP error, reported before the CONNECTION_CLOSE (exit 12, not 9).
  for (bool period : {false, true}) {
    CAPTURE(period);
    TransferPolicy::Settings s = settings(EofPolicy::fin, Role::listener);
    s.shutdown.closing_period = period;
    SUBCASE("an interrupt") {
      TransferPolicy p(s);
      PipeFacts f = moved(10, 10);
      p.decide(f, t0);
      p.interrupted(SIGINT, t0);
      Step st = p.decide(f, t0);
      REQUIRE(st.close);
      CHECK(st.close->linger == period);
    }
    SUBCASE("a closed output") {
      TransferPolicy p(s);
      PipeFacts f = moved(1, 1);
      f.output_closed = true;
      p.decide(f, t0);
      Step st = p.decide(f, t0 + 50ms);
      REQUIRE(st.close);
      CHECK(st.close->linger == period);
    }
  }
}

TEST_CASE("TransferPolicy: a closed output resets, stops, lingers, then closes with 0x2") {
  TransferPolicy p(settings(EofPolicy::fin));
  PipeFacts f = moved(1, 1);
  f.output_closed = true;
  Step s = p.decide(f, t0);
  CHECK(s.reset_stream == close_code_output_closed);
  CHECK(s.stop_reading);
  CHECK_FALSE(s.close);
  s = p.decide(f, t0 + 50ms);
  REQUIRE(s.close);
  CHECK(s.close->code == close_code_output_closed);
  CHECK(finish_close(p, f, t0 + 60ms).status == Status::output_closed);
}

TEST_CASE("TransferPolicy: a clean close that the peer turns into an error is an error") {
  TransferPolicy p(settings(EofPolicy::close));
  PipeFacts f = moved(10, 0);
  f.input_eof = true;
  p.decide(f, t0);
  f.fin_sent = true;
  REQUIRE(p.decide(f, t0).close);
  p.connection_closed(peer_close(0x33));
  p.close_finished(peer_close(0x33));
  CHECK(p.decide(f, t0).done);
  CHECK(p.outcome().status == Status::peer_app_error);
}

TEST_CASE("TransferPolicy: key update once enough was sent") {
  TransferPolicy::Settings s = settings(EofPolicy::fin);
  s.key_update_after = 100;
  TransferPolicy p(s);
  CHECK_FALSE(p.decide(moved(99, 0), t0).key_update);
  CHECK(p.decide(moved(100, 0), t0).key_update);
  CHECK(p.decide(moved(150, 0), t0).key_update);  // until it is done
  p.key_update_requested();
  CHECK_FALSE(p.decide(moved(200, 0), t0).key_update);
}

TEST_CASE("TransferPolicy: a key update waits until the peer's handshake is confirmed") {
  TransferPolicy::Settings s = settings(EofPolicy::fin);
  s.key_update_after = 0;
  TransferPolicy p(s);
  PipeFacts f = moved(10, 0);
  f.key_update_safe = false;
  Step step = p.decide(f, t0);
  CHECK_FALSE(step.key_update);
  REQUIRE(step.wake);
  CHECK(*step.wake <= t0 + std::chrono::milliseconds(5));  // looks again soon
  f.key_update_safe = true;
  CHECK(p.decide(f, t0 + std::chrono::milliseconds(30)).key_update);
}

TEST_CASE("TransferPolicy: a transfer that is over waits for its key update, bounded") {
  TransferPolicy::Settings s = settings(EofPolicy::fin);
  s.key_update_after = 0;
  // Over, both FINs exchanged; the key update cannot be made yet: no close.
  PipeFacts f = moved(3, 3);
  f.input_eof = f.fin_sent = f.fin_received = f.read_ended = true;
  f.key_update_safe = false;
  {
    TransferPolicy p(s);
    Step step = p.decide(f, t0);
    CHECK_FALSE(step.close);
    CHECK_FALSE(step.done);
    // It becomes possible: the key update, then the close.
    f.key_update_safe = true;
    step = p.decide(f, t0 + std::chrono::milliseconds(40));
    CHECK(step.key_update);
    CHECK_FALSE(step.close);
    p.key_update_requested();
    CHECK(p.decide(f, t0 + std::chrono::milliseconds(41)).close);
  }
  {
    // Never possible: the close comes after the bound (1 s) without it.
    f.key_update_safe = false;
    TransferPolicy p(s);
    CHECK_FALSE(p.decide(f, t0).close);
    CHECK_FALSE(p.decide(f, t0 + std::chrono::milliseconds(900)).close);
    Step step = p.decide(f, t0 + std::chrono::milliseconds(1001));
    CHECK(step.close);
    CHECK_FALSE(step.key_update);
  }
}

// A transfer both sides finished, as decided at `now` with the peer's last data at `peer_data`.
Step finished_step(TransferPolicy& p, PipeFacts& f, std::optional<Clock::time_point> peer_data,
                   bool loss, Clock::time_point now) {
  f = moved(3, 3);
  f.input_eof = true;
  p.decide(f, now);
  f.fin_sent = f.fin_received = f.read_ended = true;
  f.peer_data_at = peer_data;
  f.loss_seen = loss;
  return p.decide(f, now);
}

TEST_CASE("TransferPolicy: the side whose peer sent lately leaves the close to the peer") {
  // The peer cannot know that our ACK of its last data arrived; if it was lost and we closed,
  // the peer would rightly report that data unacknowledged (found through a lossy relay: the
  // listener exited 15 although the client had every byte). Quiet here: 100 ms, 600 ms once a
  // retransmission was seen; a listener twice as long, and at least 1 s.
  struct Row {
    Role role;
    std::optional<std::chrono::milliseconds> peer_data_ago;
    bool loss;
    std::optional<std::chrono::milliseconds> waits;  // until, from t0; none: closes now
  };
  const Row rows[] = {
      {Role::client, std::nullopt, false, std::nullopt},  // the peer sent no data
      {Role::client, 1ms, false, 99ms},
      {Role::client, 99ms, false, 1ms},
      {Role::client, 100ms, false, std::nullopt},
      {Role::client, 200ms, false, std::nullopt},
      {Role::client, 200ms, true, 400ms},
      {Role::client, 600ms, true, std::nullopt},
      // A listener: twice as long, and at least a second (the client's close may take that).
      {Role::listener, std::nullopt, false, std::nullopt},
      {Role::listener, 1ms, false, 999ms},
      {Role::listener, 150ms, false, 850ms},
      {Role::listener, 999ms, false, 1ms},
      {Role::listener, 1000ms, false, std::nullopt},  // sent last itself: it closes
      {Role::listener, 300ms, true, 900ms},
      {Role::listener, 1100ms, true, 100ms},
  };
  for (const Row& r : rows) {
    CAPTURE(static_cast<int>(r.role));
    CAPTURE(r.peer_data_ago ? r.peer_data_ago->count() : -1);
    CAPTURE(r.loss);
    TransferPolicy::Settings set = settings(EofPolicy::fin, r.role);
    set.quiet = 100ms;
    set.quiet_lossy = 600ms;
    TransferPolicy p(set);
    PipeFacts f;
    std::optional<Clock::time_point> at;
    if (r.peer_data_ago) at = t0 - *r.peer_data_ago;
    Step s = finished_step(p, f, at, r.loss, t0);
    REQUIRE(s.close);
    CHECK_FALSE(s.close->rapid);
    CHECK(s.close->flush);
    CHECK(s.close->wait_peer == r.waits.has_value());
    if (!r.waits) {
      CHECK(finish_close(p, f, t0 + 1ms).ok());
      continue;
    }
    // Until then the close is the peer's; then this side closes itself, gracefully.
    CHECK_FALSE(p.decide(f, t0 + *r.waits - 1ms).close);
    Step own = p.decide(f, t0 + *r.waits + 1ms);
    REQUIRE(own.close);
    CHECK_FALSE(own.close->wait_peer);
    CHECK_FALSE(own.close->rapid);
    CHECK(finish_close(p, f, t0 + *r.waits + 2ms).ok());
  }
}

TEST_CASE("TransferPolicy: waiting for the peer's close") {
  TransferPolicy::Settings set = settings(EofPolicy::fin);
  set.quiet = 100ms;
  set.quiet_lossy = 600ms;
  TransferPolicy p(set);
  PipeFacts f;
  Step s = finished_step(p, f, t0, false, t0);
  REQUIRE(s.close);
  REQUIRE(s.close->wait_peer);

  SUBCASE("the peer closes: our close completes with it") {
    p.connection_closed(peer_close());
    p.close_finished(peer_close());
    CHECK(p.decide(f, t0 + 10ms).done);
    CHECK(p.outcome().ok());
  }
  SUBCASE("the peer sends again (our ACK was lost): quiet from then on") {
    f.peer_data_at = t0 + 80ms;
    CHECK_FALSE(p.decide(f, t0 + 101ms).close);
    f.peer_data_at = t0 + 150ms;
    f.loss_seen = true;  // the data came again: a retransmission
    CHECK_FALSE(p.decide(f, t0 + 700ms).close);
    s = p.decide(f, t0 + 751ms);
    REQUIRE(s.close);
    CHECK_FALSE(s.close->wait_peer);
    CHECK(finish_close(p, f, t0 + 752ms).ok());
  }
  SUBCASE("the peer's tries come further apart (its probe timeout backs off): each waited for") {
    // Found under load with 10% loss (fault_cases (b)): the peer's next try came more than
    // quiet_lossy after the one before, our close overtook it, and the peer exited 15 with
    // its last bytes unacknowledged, though we had them.
    f.loss_seen = true;
    f.peer_data_at = t0 + 400ms;  // its first try, 400 ms after its data
    f.peer_resend_gap = 400ms;
    CHECK_FALSE(p.decide(f, t0 + 1001ms).close);  // quiet_lossy alone: closed at 1000 ms
    CHECK_FALSE(p.decide(f, t0 + 1299ms).close);  // 400 + 2 * 400 + 100
    f.peer_data_at = t0 + 1200ms;                 // its second, 800 ms later
    f.peer_resend_gap = 800ms;
    CHECK_FALSE(p.decide(f, t0 + 2899ms).close);  // 1200 + 2 * 800 + 100
    s = p.decide(f, t0 + 2901ms);
    REQUIRE(s.close);
    CHECK_FALSE(s.close->wait_peer);
  }
  SUBCASE("a keep-alive PING after an idle spell is no try: the quiet period as before") {
    f.peer_data_at = t0 + 20ms;
    f.peer_resend_gap = 15s;
    s = p.decide(f, t0 + 121ms);
    REQUIRE(s.close);
    CHECK_FALSE(s.close->wait_peer);
  }
  SUBCASE("tries further apart still: the cap holds") {
    f.loss_seen = true;
    f.peer_data_at = t0 + 1400ms;
    f.peer_resend_gap = 1400ms;  // would wait until 4300 ms
    CHECK_FALSE(p.decide(f, t0 + 2999ms).close);
    s = p.decide(f, t0 + 3000ms);
    REQUIRE(s.close);
    CHECK_FALSE(s.close->wait_peer);
  }
  SUBCASE("a peer that keeps sending holds the close no longer than the cap") {
    Clock::time_point now = t0;
    for (int i = 0; i < 100; ++i) {
      now += 50ms;
      f.peer_data_at = now;
      s = p.decide(f, now + 1ms);
      if (s.close) break;
    }
    REQUIRE(s.close);
    CHECK_FALSE(s.close->wait_peer);
    CHECK(now >= t0 + 3000ms);
    CHECK(now <= t0 + 3050ms);
  }
  SUBCASE("an interrupt while waiting: the close goes on at once, bounded") {
    p.interrupted(SIGINT, t0 + 10ms);
    s = p.decide(f, t0 + 10ms);
    REQUIRE(s.close);
    CHECK_FALSE(s.close->wait_peer);
  }
  SUBCASE("the peer has gone: our own close, everything acknowledged, is bounded") {
    // OpenSSL's flush may wait for an ACK the peer never sends (a RESET_STREAM's).
    s = p.decide(f, t0 + 101ms);
    REQUIRE(s.close);
    CHECK_FALSE(s.close->wait_peer);
    CHECK(s.close->flush);
    // The driver is told when to look again: nothing else may wake it (a silent peer).
    REQUIRE(s.wake);
    CHECK(*s.wake == t0 + 101ms + 500ms);
    CHECK_FALSE(p.decide(f, t0 + 101ms + 499ms).close);  // close_limit: 500 ms
    s = p.decide(f, t0 + 101ms + 500ms);
    REQUIRE(s.close);
    CHECK(s.close->rapid);
    p.close_finished(std::nullopt);
    p.close_frame_sent();
    REQUIRE(p.decide(f, t0 + 700ms).done);
    CHECK(p.outcome().ok());
  }
  SUBCASE("the peer has gone with our data unacknowledged: waited for, as the user says") {
    f.unacked = 10;
    s = p.decide(f, t0 + 101ms);
    REQUIRE(s.close);
    CHECK(s.close->flush);
    CHECK_FALSE(p.decide(f, t0 + 60s).close);
  }
}

TEST_CASE("TransferPolicy: the quiet periods follow the round-trip time") {
  TransferPolicy p(settings(EofPolicy::fin));
  PipeFacts f;
  p.set_round_trip(200);  // loopback: the floors, 50 ms and 600 ms
  Step s = finished_step(p, f, t0, false, t0);
  REQUIRE(s.close);
  REQUIRE(s.close->wait_peer);
  CHECK_FALSE(p.decide(f, t0 + 49ms).close);
  CHECK(p.decide(f, t0 + 51ms).close);

  TransferPolicy far(settings(EofPolicy::fin));
  far.set_round_trip(50000);  // 50 ms: 4 RTT + 40 ms = 240 ms; lossy 20 RTT + 300 ms = 1300 ms
  s = finished_step(far, f, t0, false, t0);
  REQUIRE(s.close);
  CHECK_FALSE(far.decide(f, t0 + 239ms).close);
  CHECK(far.decide(f, t0 + 241ms).close);

  TransferPolicy lossy(settings(EofPolicy::fin));
  lossy.set_round_trip(50000);
  s = finished_step(lossy, f, t0, true, t0);
  REQUIRE(s.close);
  CHECK_FALSE(lossy.decide(f, t0 + 1299ms).close);
  CHECK(lossy.decide(f, t0 + 1301ms).close);
}

TEST_CASE("TransferPolicy: a close that ends a transfer waits for our ACK of the peer's data") {
  TransferPolicy p(settings(EofPolicy::fin));
  PipeFacts f = moved(3, 3);
  f.input_eof = true;
  p.decide(f, t0);
  f.fin_sent = f.fin_received = f.read_ended = true;
  f.peer_acked = false;
  Step s = p.decide(f, t0);
  CHECK_FALSE(s.close);
  REQUIRE(s.wake);
  CHECK(*s.wake <= t0 + 5ms);
  f.peer_acked = true;
  CHECK(p.decide(f, t0 + 3ms).close);

  TransferPolicy late(settings(EofPolicy::fin));
  f.peer_acked = false;
  late.decide(f, t0);
  CHECK_FALSE(late.decide(f, t0 + 99ms).close);
  CHECK(late.decide(f, t0 + 100ms).close);  // not forever
}

TEST_CASE("TransferPolicy: a listener ends its side on the client's stream once it arrives") {
  TransferPolicy p(settings(EofPolicy::fin, Role::listener));
  PipeFacts f = moved(0, 0);
  f.stream_open = false;
  f.input_eof = true;
  CHECK_FALSE(p.decide(f, t0).send_fin);  // no stream of its own just for a FIN
  f.stream_open = true;                    // the client's stream is adopted
  CHECK(p.decide(f, t0).send_fin);
}

TEST_CASE("TransferPolicy: a waiting close cut short by the peer's clean close") {
  TransferPolicy::Settings s = settings(EofPolicy::fin);
  PipeFacts f = moved(100, 7);
  f.input_eof = true;
  for (bool after_ours : {false, true}) {
    CAPTURE(after_ours);
    TransferPolicy p(s);
    p.decide(f, t0);
    PipeFacts g = f;
    g.fin_sent = g.fin_received = g.read_ended = true;
    g.peer_fin_after_ours = after_ours;
    REQUIRE(p.decide(g, t0).close);  // a close that waits for our data
    g.unacked = 40;
    p.connection_closed(peer_close());
    p.close_finished(peer_close());
    CHECK(p.decide(g, t0 + 1ms).done);
    CHECK(p.outcome().status == (after_ours ? Status::ok : Status::incomplete));
  }
}

TEST_CASE("TransferPolicy: a close that does not wait clears the way for its CONNECTION_CLOSE") {
  // OpenSSL 3.5 ignores ACKs once closing: with the congestion window full of stream data the
  // CONNECTION_CLOSE would never leave. The stream is reset first (its unsent data dropped),
  // and the close follows once the RESET_STREAM has left, or after rapid_limit.
  struct Row {
    const char* name;
    void (*cause)(TransferPolicy&);
    uint64_t code;
  };
  const Row rows[] = {
      {"interrupt", [](TransferPolicy& p) { p.interrupted(SIGINT, t0); }, close_code_interrupted},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    TransferPolicy p(settings(EofPolicy::fin));
    PipeFacts f = moved(1'000'000, 0);
    f.unacked = 300'000;
    p.decide(f, t0);
    r.cause(p);
    Step s = p.decide(f, t0);
    CHECK(s.reset_stream == r.code);
    CHECK_FALSE(s.close);
    f.reset_sent = true;
    s = p.decide(f, t0 + 2ms);  // the RESET_STREAM has not left yet
    CHECK_FALSE(s.close);
    f.reset_left = true;
    s = p.decide(f, t0 + 3ms);
    REQUIRE(s.close);
    CHECK(s.close->code == r.code);
    CHECK_FALSE(s.close->flush);
  }

  SUBCASE("not forever") {
    TransferPolicy::Settings st = settings(EofPolicy::close);
    st.shutdown.rapid = true;
    TransferPolicy p(st);
    PipeFacts f = moved(10, 0);
    f.input_eof = f.fin_sent = true;
    f.unacked = 10;
    p.decide(f, t0);
    f.reset_sent = true;
    CHECK_FALSE(p.decide(f, t0 + 249ms).close);
    CHECK(p.decide(f, t0 + 250ms).close);
  }
  SUBCASE("nothing unacknowledged: nothing to clear") {
    TransferPolicy p(settings(EofPolicy::fin));
    PipeFacts f = moved(10, 0);
    p.decide(f, t0);
    p.interrupted(SIGINT, t0);
    Step s = p.decide(f, t0);
    CHECK_FALSE(s.reset_stream);
    CHECK(s.close);
  }
}

TEST_CASE("TransferPolicy: a listener told to close (--on-eof close) closes itself") {
  TransferPolicy p(settings(EofPolicy::close, Role::listener));
  PipeFacts f = moved(10, 0);
  f.input_eof = true;
  p.decide(f, t0);
  f.fin_sent = true;
  Step s = p.decide(f, t0);
  REQUIRE(s.close);
  CHECK_FALSE(s.close->wait_peer);
  CHECK(s.close->flush);
}

TEST_CASE("TransferPolicy: crossed streams, and the peer closes before its stream arrived") {
  TransferPolicy p(settings(EofPolicy::fin, Role::listener));
  PipeFacts f = moved(10, 0);
  f.input_eof = f.fin_sent = true;
  f.receive_moved = true;  // our stream's receiving half was reset as crossed
  p.decide(f, t0);
  p.connection_closed(peer_close());
  Step s = p.decide(f, t0);
  REQUIRE(s.done);  // nothing to wait for: no stream left to read
  CHECK(p.outcome().status == Status::incomplete);
  CHECK(p.outcome().message == "peer closed the connection before the stream with its data arrived");
}

TEST_CASE("TransferPolicy: a second interrupt overtakes a close still clearing its way") {
  TransferPolicy p(settings(EofPolicy::fin));
  PipeFacts f = moved(1'000'000, 0);
  f.unacked = 500'000;  // and a stopped peer: nothing will leave
  p.decide(f, t0);
  p.interrupted(SIGINT, t0);
  CHECK(p.decide(f, t0).reset_stream == close_code_interrupted);
  f.reset_sent = true;
  CHECK_FALSE(p.decide(f, t0 + 20ms).close);
  p.interrupted(SIGINT, t0 + 50ms);
  Step s = p.decide(f, t0 + 50ms);
  REQUIRE(s.close);
  CHECK(s.close->rapid);
  CHECK_FALSE(p.decide(f, t0 + 200ms).done);
  CHECK(p.decide(f, t0 + 300ms).done);  // 250 ms for the frame, then done
}

TEST_CASE("TransferPolicy: the peer resets the stream") {
  TransferPolicy p(settings(EofPolicy::fin));
  PipeFacts f = moved(10, 10);
  f.reset_received = 1;
  f.read_ended = true;
  Step s = p.decide(f, t0);
  CHECK_FALSE(s.close);  // a moment for the peer's close, which says more

  SUBCASE("and closes: its close is the outcome") {
    CloseInfo c = peer_close(1);
    c.reason = "interrupted";
    p.connection_closed(c);
    CHECK(p.decide(f, t0 + 5ms).done);
    CHECK(p.outcome().status == Status::peer_app_error);
    CHECK(p.outcome().message == "peer closed the connection: application error 0x1 (interrupted)");
  }
  SUBCASE("and closes cleanly: the reset is the outcome") {
    p.connection_closed(peer_close());
    CHECK(p.decide(f, t0 + 5ms).done);
    CHECK(p.outcome().status == Status::stream_reset);
  }
  SUBCASE("and does not close: we close, rapidly") {
    s = p.decide(f, t0 + 50ms);
    REQUIRE(s.close);
    CHECK(s.close->rapid);
    p.close_frame_sent();
    CHECK(p.decide(f, t0 + 51ms).done);
    CHECK(p.outcome().status == Status::stream_reset);
    CHECK(p.outcome().message == "peer reset the stream (code 0x1)");
  }
}

TEST_CASE("TransferPolicy: a reset that came with the peer's close is still a reset") {
  TransferPolicy p(settings(EofPolicy::fin));
  PipeFacts f = moved(2, 0);
  f.input_eof = f.fin_sent = true;
  p.decide(f, t0);
  p.connection_closed(peer_close());
  f.reset_received = stream_code_unknown;  // the stream's state said only "connection closed"
  f.read_ended = true;
  REQUIRE(p.decide(f, t0).done);
  CHECK(p.outcome().status == Status::stream_reset);
  CHECK(p.outcome().message == "peer reset the stream (its code was lost with the connection's close)");
}

TEST_CASE("TransferPolicy: --expect matched: reading stops and this side closes") {
  for (Role role : {Role::client, Role::listener}) {
    CAPTURE(static_cast<int>(role));
    TransferPolicy::Settings s = settings(EofPolicy::fin, role);
    s.expect = ExpectMode::stop_at_match;
    TransferPolicy p(s);
    PipeFacts f = moved(3, 5);
    f.input_eof = true;
    f.fin_sent = true;
    Step step = p.decide(f, t0);
    CHECK(step.read_stream);
    CHECK_FALSE(step.close);
    f.expect_met = true;  // the peer keeps its side open
    step = p.decide(f, t0 + 1ms);
    CHECK_FALSE(step.read_stream);
    REQUIRE(step.close);
    // The peer sent no data lately (no STREAM frame on record): this side closes at once.
    CHECK_FALSE(step.close->wait_peer);
    CHECK(step.close->flush);
    CHECK(finish_close(p, f, t0 + 2ms).ok());
  }
}

TEST_CASE("TransferPolicy: --expect-close reads on to the peer's FIN") {
  TransferPolicy::Settings s = settings(EofPolicy::fin);
  s.expect = ExpectMode::read_to_end;
  TransferPolicy p(s);
  PipeFacts f = moved(3, 5);
  f.input_eof = f.fin_sent = true;
  f.expect_met = true;
  Step step = p.decide(f, t0);
  CHECK(step.read_stream);
  CHECK_FALSE(step.close);
  f.fin_received = f.read_ended = true;
  CHECK(p.decide(f, t0 + 1ms).close);
}

TEST_CASE("TransferPolicy: after the peer's close, a match still ends the delivery") {
  TransferPolicy::Settings s = settings(EofPolicy::fin);
  s.expect = ExpectMode::stop_at_match;
  TransferPolicy p(s);
  PipeFacts f = moved(3, 5);
  f.input_eof = f.fin_sent = true;
  p.decide(f, t0);
  p.connection_closed(peer_close());
  CHECK(p.decide(f, t0 + 1ms).read_stream);  // what came before the close is still read
  f.expect_met = true;
  Step step = p.decide(f, t0 + 2ms);
  CHECK(step.done);
  CHECK(p.outcome().ok());  // no FIN, but nothing after the match was wanted
}

TEST_CASE("TransferPolicy: a match waiting for our data's ACK looks again soon") {
  TransferPolicy::Settings s = settings(EofPolicy::ignore);
  s.expect = ExpectMode::stop_at_match;
  TransferPolicy p(s);
  PipeFacts f = moved(5, 5);
  f.input_eof = true;
  f.expect_met = true;
  f.unacked = 5;
  Step step = p.decide(f, t0);
  CHECK(step.read_stream);  // not over until our data is acknowledged
  CHECK_FALSE(step.close);
  REQUIRE(step.wake);
  CHECK(*step.wake <= t0 + 10ms);
  f.unacked = 0;
  step = p.decide(f, t0 + 10ms);
  CHECK_FALSE(step.read_stream);
  CHECK(step.close);
}
