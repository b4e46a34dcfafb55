// A service listener (--echo, --serve, --sink, --source, --perf) under the blocking driver: a thread
// per connection and per stream, each making OpenSSL's blocking calls; a stream's thread steps
// its ServiceStream until it is over. The calling thread accepts connections, enforces
// handshake deadlines and the listener's idle timer, and at an interrupt, --timeout or
// --idle-exit closes every connection, wakes the threads blocked inside OpenSSL and joins them:
// run() returns. Without --keep-open it serves the first connection that completes its
// handshake alone, and returns once that connection's thread is over.
#include <openssl/err.h>

#include <algorithm>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

#include "blocking.hpp"
#include "drivers.hpp"
#include "event_loop.hpp"
#include "service_stream.hpp"

namespace quicc {

namespace {

struct ServiceEntry {
  ServiceEntry(SslPtr ssl, Emitter& run_emitter, uint64_t number)
      : emitter(run_emitter, number),
        conn(std::make_unique<Connection>(std::move(ssl), emitter, true)) {}

  Emitter emitter;  // stamps this connection's number on its events
  std::unique_ptr<Connection> conn;
  Clock::time_point deadline;  // handshake
  std::atomic<bool> established{false};
  std::atomic<bool> timed_out{false};
  std::atomic<bool> turned_away{false};  // another connection is served (no --keep-open)
  std::atomic<bool> over{false};
  std::atomic<bool> key_updated{false};
  std::atomic<uint64_t> moved{0};  // bytes in and out, for --idle-exit and --key-update
  // --serve: streams answering a request now, and when the last answer ended (or the
  // handshake did), for request_deadline.
  std::atomic<unsigned> answering{0};
  std::atomic<Clock::time_point> last_request{};
  std::mutex tally_mutex;
  ServiceTally tally;  // under tally_mutex while stream threads run
  Outcome outcome;     // the connection's, once `over`
  Workers streams;
  std::thread thread;
};

void serve_stream(ServiceEntry& e, SSL* stream, RunContext& run) {
  ServiceStream service(stream, run.config, e.emitter, true);
  Outcome failure;
  uint64_t counted = 0;
  bool going = true, answering = false;
  service.on_answer([&] {
    answering = true;
    ++e.answering;
  });
  while (going) {
    going = service.step(failure);
    e.moved += service.moved() - counted;
    counted = service.moved();
  }
  if (answering) {
    e.last_request = Clock::now();  // before the count drops: never an old time with none
    --e.answering;
  }
  ERR_clear_error();
  std::lock_guard lock(e.tally_mutex);
  e.tally.stream_over(service, failure, e.emitter);
}

void serve_connection(ServiceEntry& e, RunContext& run, Waker& waker) {
  Connection& conn = *e.conn;
  auto accepted = Clock::now();
  ERR_clear_error();
  if (SSL_do_handshake(conn.ssl()) != 1) {
    Outcome failed = e.timed_out ? handshake_timeout_outcome(run.config, false)
                                 : describe_handshake_failure(conn.ssl(), nullptr);
    if (e.turned_away) failed.message = turned_away_text;
    // The client's failure, not the listener's: it goes on serving (or waiting).
    e.emitter.emit(WarningEvent{failed.message});
    conn.abort();
    e.outcome = failed;
    e.over = true;
    return;
  }
  if (Outcome o = conn.report_handshake(accepted); !o.ok()) {
    e.emitter.emit(WarningEvent{o.message});
    conn.abort();
    e.outcome = o;
    e.over = true;
    return;
  }
  e.last_request = Clock::now();
  e.established = true;
  // Blocks until the next stream, or returns null once the connection is over.
  while (SSL* raw = SSL_accept_stream(conn.ssl(), 0)) {
    SSL* s = conn.adopt_accepted(SslPtr(raw));
    e.streams.start([&e, s, &run] { serve_stream(e, s, run); });
  }
  ERR_clear_error();
  if (!e.streams.join(worker_join_limit, [&waker] { waker.wake(); })) conn.leak();
  {
    std::lock_guard lock(e.tally_mutex);
    conn.report_end(e.tally.transferred());
    e.outcome = e.tally.outcome(conn);
  }
  e.over = true;
}

// Without --keep-open, once `chosen` completed its handshake: the clients still in theirs are
// turned away (closed at once; their threads end and are joined as usual).
void turn_away_all_but(std::list<std::unique_ptr<ServiceEntry>>& entries,
                       const ServiceEntry* chosen, Waker& waker) {
  for (auto& e : entries) {
    if (e.get() == chosen || e->over) continue;
    e->turned_away = true;
    e->conn->abort();
    waker.wake();
  }
}

}  // namespace

Outcome service_blocking(SSL* listener, int listener_fd, RunContext& run) {
  const Config& config = run.config;
  Waker waker(-1, listener_fd);
  EventLoop loop(listener, run.emitter, run.interrupts.wake_fd());
  std::list<std::unique_ptr<ServiceEntry>> entries;
  ServiceEntry* chosen = nullptr;  // without --keep-open: the one connection served
  auto idle = listener_idle_limit(config);
  uint64_t index = 0;
  uint64_t finished = 0, last_total = 0;
  auto last_activity = Clock::now();
  Outcome ending;
  CloseRequest request{false, false, false, close_code_timeout, "timeout"};
  bool chosen_over = false;
  Outcome chosen_outcome;
  while (!chosen_over) {
    auto now = Clock::now();
    RunEnding end = run_ending(run, last_activity, now);
    ending = end.outcome;
    request = end.close;
    if (!ending.ok()) break;

    while (!chosen) {
      std::string peer;
      // Neither an entry whose thread is over nor a closing connection (its peer is gone or
      // going) counts against --max-conns.
      size_t open = static_cast<size_t>(std::count_if(entries.begin(), entries.end(), [](auto& e) {
        return !e->over && !e->conn->closing();
      }));
      SslPtr conn = take_connection(listener, run, open, peer);
      if (!conn) break;
      ++index;
      run.emitter.emit(ConnectionAcceptedEvent{index, std::move(peer)});
      last_activity = now;
      auto e = std::make_unique<ServiceEntry>(std::move(conn), run.emitter, index);
      // From its own acceptance: accepting a burst of clients takes seconds under load, and
      // the loop's `now` made later ones time out early (found by load_echo: 5 s of 10).
      e->deadline = Clock::now() + config.connect_timeout;
      ServiceEntry* raw = e.get();
      e->thread = std::thread([raw, &run, &waker] { serve_connection(*raw, run, waker); });
      entries.push_back(std::move(e));
    }
    uint64_t live = 0;
    std::optional<Clock::time_point> next = earliest(run.run_deadline(), std::nullopt);
    for (auto it = entries.begin(); it != entries.end();) {
      ServiceEntry& e = **it;
      if (!config.keep_open && !chosen && e.established) {
        chosen = &e;
        turn_away_all_but(entries, chosen, waker);
      }
      if (e.over) {
        e.thread.join();
        if (&e == chosen) {
          chosen_outcome = e.outcome;
          chosen_over = true;
        }
        finished += e.moved;
        it = entries.erase(it);
        continue;
      }
      live += e.moved;
      // A connection the client closed: OpenSSL 3.5 does not wake the thread blocked in
      // SSL_accept_stream, so it is poked until it has seen the end. Looked at often, as
      // nothing else wakes this loop when the close arrives.
      if (e.established) {
        if (e.conn->closed()) waker.wake();
        next = earliest(next, now + std::chrono::milliseconds(e.conn->closed() ? 20 : 100));
      }
      // Deadlines the blocked threads cannot watch themselves.
      if (!e.established && !e.timed_out && now >= e.deadline) {
        e.timed_out = true;
        e.conn->abort();
        waker.wake();
      } else if (!e.established) {
        next = earliest(next, e.deadline);
      }
      if (idle && e.established && !e.conn->closed()) {
        auto until = e.conn->last_datagram_in() + *idle;
        if (now >= until) {
          {
            std::lock_guard lock(e.tally_mutex);
            e.tally.idled_out(e.emitter);
          }
          e.conn->abort(close_code_timeout, "idle");
          waker.wake();
        } else {
          next = earliest(next, until);
        }
      }
      auto no_request = request_deadline(config, e.last_request);
      if (no_request && e.established && !e.conn->closed() && e.answering == 0) {
        if (now >= *no_request) {
          {
            std::lock_guard lock(e.tally_mutex);
            close_for_no_request(*e.conn, e.tally, e.emitter, config);
          }
          waker.wake();
        } else {
          next = earliest(next, *no_request);
        }
      }
      // --key-update: made from here, once due and once the peer's handshake is confirmed
      // (Connection::key_update_safe); byte counts move on other threads, so look often.
      auto after = config.key_update_after;
      if (after && e.established && !e.key_updated && !e.conn->closed()) {
        if (e.moved >= *after && e.conn->request_key_update(e.moved)) e.key_updated = true;
        else next = earliest(next, now + std::chrono::milliseconds(10));
      }
      ++it;
    }
    if (finished + live != last_total) last_activity = now;
    last_total = finished + live;
    if (config.idle_exit.count() > 0) next = earliest(next, last_activity + config.idle_exit);
    // Byte counts move on other threads: look again now and then for --idle-exit.
    if (config.idle_exit.count() > 0 && !entries.empty())
      next = earliest(next, now + std::chrono::milliseconds(100));
    // OpenSSL's assist thread may read a new client's datagrams before our poll() sees the
    // socket readable: the connection then waits in the accept queue with nothing to wake
    // us. Look at the queue every 50 ms.
    next = earliest(next, now + std::chrono::milliseconds(50));
    loop.wait({}, next);
  }

  // Tell every client why, wait for the closing periods (at most 500 ms; a new interrupt: no
  // waiting), then wake the threads blocked inside OpenSSL and join them.
  auto deadline = Clock::now() + std::chrono::milliseconds(500);
  std::vector<Connection*> all;
  for (auto& e : entries) all.push_back(e->conn.get());
  if (clear_for_close(all, run.interrupts, loop, request.code, deadline)) request.rapid = true;
  for (;;) {
    bool all_closed = true, all_sent = true;
    // Connections whose thread has ended are closed too: their CONNECTION_CLOSE may still be
    // waiting for the congestion window.
    for (auto& e : entries) {
      all_closed = e->conn->close_step(request) && all_closed;
      all_sent = all_sent && e->conn->close_frame_sent();
    }
    // Done once every close is complete and its CONNECTION_CLOSE has left (a full congestion
    // window can hold it back), or at once for a rapid close whose frames have left.
    if ((all_closed || request.rapid) && all_sent) break;
    if (Clock::now() >= deadline) break;
    if (run.interrupts.take_new() > 0) request.rapid = true;
    loop.wait({}, std::min(deadline, Clock::now() + std::chrono::milliseconds(10)));
  }
  auto join_deadline = Clock::now() + worker_join_limit;
  for (auto& e : entries) {
    while (!e->over && Clock::now() < join_deadline) {
      waker.wake();
      wait_readable({}, -1, Clock::now() + std::chrono::milliseconds(20));
    }
    if (e->over) {
      e->thread.join();
    } else {
      e->thread.detach();
      e->conn->leak();
      e.release();  // still in use by its thread: the process ends soon
    }
  }
  return chosen_over ? chosen_outcome : ending;
}

}  // namespace quicc
