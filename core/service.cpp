// A service listener (--echo, --serve, --sink, --source, --perf) under the non-blocking driver: every
// connection and every stream served by one poll() loop, each stream by a ServiceStream. With
// --keep-open the service ends only at an interrupt, --timeout or --idle-exit; then every
// connection is closed with quicc's code for the reason, and each close is reported once.
// Without it, the first connection that completes its handshake is the only one served, and its
// end is the run's.
#include <openssl/err.h>

#include <algorithm>
#include <list>
#include <memory>
#include <vector>

#include "drivers.hpp"
#include "event_loop.hpp"
#include "service_stream.hpp"

namespace quicc {

namespace {

struct ServiceConnection {
  ServiceConnection(SslPtr ssl, Emitter& run_emitter, uint64_t number, Clock::time_point now)
      : emitter(run_emitter, number),
        conn(std::make_unique<Connection>(std::move(ssl), emitter, true)),
        accepted(now) {}

  Emitter emitter;  // stamps this connection's number on its events
  std::unique_ptr<Connection> conn;
  bool established = false;
  bool handshake_failed = false;
  Clock::time_point accepted;
  Clock::time_point last_request;  // --serve: handshake done, or an answer being sent
  std::list<ServiceStream> streams;
  ServiceTally tally;  // of the streams already over
  bool key_updated = false;

  uint64_t total() const {
    uint64_t t = tally.moved();
    for (const auto& s : streams) t += s.moved();
    return t;
  }
};

// Drives one connection a step; false once it is over (its end reported).
bool serve(ServiceConnection& c, RunContext& run, bool& busy) {
  Connection& conn = *c.conn;
  const Config& config = run.config;
  if (!c.established) {
    auto handshake = step_accepted_handshake(conn, c.accepted, config);
    if (!handshake) return true;
    if (!handshake->ok()) {
      // The client's failure, not the listener's: it goes on serving (or waiting).
      c.emitter.emit(WarningEvent{handshake->message});
      c.handshake_failed = true;
      conn.abort();
      return false;
    }
    c.established = true;
    c.last_request = Clock::now();
  }
  for (SSL* s : conn.accept_streams()) c.streams.emplace_back(s, config, c.emitter, false);
  for (auto it = c.streams.begin(); it != c.streams.end();) {
    Outcome o;
    bool going = it->step(o);
    busy = busy || it->busy();
    if (going) {
      ++it;
      continue;
    }
    c.tally.stream_over(*it, o, c.emitter);
    conn.forget_stream(it->ssl());
    it = c.streams.erase(it);
    // Its last frame (a FIN, a RESET_STREAM) is queued, but no timer of the listener's says
    // so: the frame left only with the next datagram or PING (15 s later, seen with a refused
    // --serve request). Turn once more at once, so that OpenSSL sends it.
    busy = true;
  }
  if (config.key_update_after && !c.key_updated && c.total() >= *config.key_update_after)
    c.key_updated = conn.request_key_update(c.total());
  auto now = Clock::now();
  auto idle = listener_idle_limit(config);
  if (idle && !conn.closed() && now - conn.last_datagram_in() >= *idle) {
    conn.abort(close_code_timeout, "idle");  // a client still there hears it was cut
    c.tally.idled_out(c.emitter);
  }
  if (std::any_of(c.streams.begin(), c.streams.end(), [](auto& s) { return s.answered(); }))
    c.last_request = now;
  auto no_request = request_deadline(config, c.last_request);
  if (no_request && !conn.closed() && now >= *no_request)
    close_for_no_request(conn, c.tally, c.emitter, config);
  if (conn.closed()) {
    for (auto& s : c.streams) c.tally.stream_cut(s);
    conn.report_end(c.tally.transferred());
    return false;
  }
  return true;
}

// Without --keep-open, once `chosen` completed its handshake: the clients still in theirs
// are turned away (closed at once).
void drop_all_but(std::list<ServiceConnection>& connections, const ServiceConnection* chosen) {
  for (auto it = connections.begin(); it != connections.end();) {
    if (&*it == chosen) {
      ++it;
      continue;
    }
    it->emitter.emit(WarningEvent{turned_away_text});
    it->conn->abort();
    it = connections.erase(it);
  }
}

// Closes every connection with `request`, waiting at most 500 ms for their closing periods (a
// new interrupt: not at all), so that clients get the CONNECTION_CLOSE instead of ICMP errors
// from a socket that is gone.
void close_all(std::list<ServiceConnection>& connections, RunContext& run, EventLoop& loop,
               CloseRequest request) {
  auto deadline = Clock::now() + std::chrono::milliseconds(500);
  std::vector<Connection*> all;
  for (auto& c : connections) all.push_back(c.conn.get());
  if (clear_for_close(all, run.interrupts, loop, request.code, deadline)) request.rapid = true;
  for (;;) {
    bool all_closed = true, all_sent = true;
    for (auto& c : connections) {
      all_closed = c.conn->close_step(request) && all_closed;
      all_sent = all_sent && c.conn->close_frame_sent();
    }
    // Done once every close is complete and its CONNECTION_CLOSE has left (a full congestion
    // window can hold it back), or at once for a rapid close whose frames have left.
    if ((all_closed || request.rapid) && all_sent) break;
    if (Clock::now() >= deadline) break;
    if (run.interrupts.take_new() > 0) request.rapid = true;
    loop.wait({}, std::min(deadline, Clock::now() + std::chrono::milliseconds(10)));
  }
  for (auto& c : connections) {
    for (auto& s : c.streams) c.tally.stream_cut(s);
    c.conn->report_end(c.tally.transferred());
  }
}

}  // namespace

bool clear_for_close(const std::vector<Connection*>& connections, InterruptWatch& interrupts,
                     EventLoop& loop, uint64_t code, Clock::time_point deadline) {
  bool any = false;
  for (Connection* c : connections) any = c->reset_streams(code) || any;
  if (!any) return false;
  auto until = std::min(deadline, Clock::now() + std::chrono::milliseconds(250));
  while (Clock::now() < until) {
    if (interrupts.take_new() > 0) return true;
    bool all = true;
    for (Connection* c : connections) all = all && (c->reset_frame_sent() || c->closed());
    if (all) return false;
    loop.wait({}, std::min(until, Clock::now() + std::chrono::milliseconds(5)));
  }
  return false;
}

Outcome service_nonblocking(SSL* listener, RunContext& run) {
  const Config& config = run.config;
  EventLoop loop(listener, run.emitter, run.interrupts.wake_fd());
  std::list<ServiceConnection> connections;
  uint64_t index = 0;
  uint64_t finished = 0;  // bytes moved on connections already over
  uint64_t last_total = 0;
  // Without --keep-open: the one connection served, once its handshake is complete.
  ServiceConnection* chosen = nullptr;
  auto last_activity = Clock::now();
  for (;;) {
    auto now = Clock::now();
    RunEnding end = run_ending(run, last_activity, now);
    if (!end.outcome.ok()) {
      close_all(connections, run, loop, end.close);
      return end.outcome;
    }

    while (!chosen) {
      std::string peer;
      // A closing connection's peer is gone or going: it does not count against --max-conns.
      size_t open = static_cast<size_t>(std::count_if(
          connections.begin(), connections.end(), [](auto& c) { return !c.conn->closing(); }));
      SslPtr conn = take_connection(listener, run, open, peer);
      if (!conn) break;
      ++index;
      run.emitter.emit(ConnectionAcceptedEvent{index, std::move(peer)});
      last_activity = now;
      connections.emplace_back(std::move(conn), run.emitter, index, now);
    }
    bool busy = false;
    uint64_t live = 0;
    for (auto it = connections.begin(); it != connections.end();) {
      bool going = serve(*it, run, busy);
      if (!config.keep_open && !chosen && it->established) {
        chosen = &*it;
        drop_all_but(connections, chosen);
      }
      if (going) {
        live += it->total();
        ++it;
        continue;
      }
      if (&*it == chosen) return it->tally.outcome(*it->conn);
      finished += it->total();
      it = connections.erase(it);
    }
    // --idle-exit: no byte moved (and no new connection) for that long.
    if (finished + live != last_total) last_activity = now;
    last_total = finished + live;

    std::optional<Clock::time_point> deadline = run.run_deadline();
    if (config.idle_exit.count() > 0) deadline = earliest(deadline, last_activity + config.idle_exit);
    // The listener's own idle timer and the handshake deadlines need a wake-up of their own.
    auto idle = listener_idle_limit(config);
    for (const auto& c : connections) {
      if (!c.established) deadline = earliest(deadline, c.accepted + config.connect_timeout);
      else if (idle) deadline = earliest(deadline, c.conn->last_datagram_in() + *idle);
      if (c.established) deadline = earliest(deadline, request_deadline(config, c.last_request));
    }
    if (busy) deadline = now;
    loop.wait({}, deadline);
  }
}

}  // namespace quicc
