// `--listen --echo` under the blocking driver: a thread per connection and per stream, each
// making OpenSSL's blocking calls. The calling thread accepts connections, enforces handshake
// deadlines and the listener's idle timer, and at an interrupt, --timeout or --idle-exit closes
// every connection, wakes the threads blocked inside OpenSSL and joins them: run() returns.
#include <openssl/err.h>

#include <list>
#include <memory>
#include <vector>

#include "blocking.hpp"
#include "drivers.hpp"
#include "event_loop.hpp"
#include "stream_writer.hpp"

namespace quicc {

namespace {

struct EchoEntry {
  std::unique_ptr<Connection> conn;
  Clock::time_point deadline;  // handshake
  std::atomic<bool> established{false};
  std::atomic<bool> timed_out{false};
  std::atomic<bool> over{false};
  std::atomic<bool> key_updated{false};
  std::atomic<uint64_t> echoed{0};
  Workers streams;
  std::thread thread;
};

void echo_stream(EchoEntry& e, SSL* stream, RunContext& run) {
  std::vector<unsigned char> buffer(chunk_size);
  uint64_t id = SSL_get_stream_id(stream);
  bool bidi = stream_is_bidi(stream);
  if (bidi) apply_write_mode(stream, run.config);
  for (;;) {
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(stream, buffer.data(), buffer.size(), &n) == 1) {
      if (!bidi) continue;  // nowhere to echo a unidirectional stream to
      size_t done = 0;
      while (done < n) {
        size_t written = 0;
        if (SSL_write_ex(stream, buffer.data() + done, n - done, &written) != 1) break;
        done += written;
      }
      e.echoed += done;
      if (done < n) break;
      continue;
    }
    if (SSL_get_error(stream, 0) == SSL_ERROR_ZERO_RETURN) {
      run.emitter.emit(StreamEvent{id, StreamChange::fin_received, {}});
      if (bidi && SSL_stream_conclude(stream, 0) == 1)
        run.emitter.emit(StreamEvent{id, StreamChange::fin_sent, {}});
    } else if (SSL_get_stream_read_state(stream) == SSL_STREAM_STATE_RESET_REMOTE) {
      uint64_t code = 0;
      SSL_get_stream_read_error_code(stream, &code);
      run.emitter.emit(StreamEvent{id, StreamChange::reset_received, code});
    }
    break;
  }
  ERR_clear_error();
}

void serve_connection(EchoEntry& e, RunContext& run, Waker& waker) {
  Connection& conn = *e.conn;
  auto accepted = Clock::now();
  ERR_clear_error();
  if (SSL_do_handshake(conn.ssl()) != 1) {
    Outcome failed = e.timed_out ? handshake_timeout_outcome(run.config, false)
                                 : describe_handshake_failure(conn.ssl(), nullptr);
    run.emitter.emit(ErrorEvent{failed});
    conn.abort();
    e.over = true;
    return;
  }
  e.established = true;
  if (Outcome o = conn.report_handshake(accepted); !o.ok()) {
    run.emitter.emit(ErrorEvent{o});
    conn.abort();
    e.over = true;
    return;
  }
  // Blocks until the next stream, or returns null once the connection is over.
  while (SSL* raw = SSL_accept_stream(conn.ssl(), 0)) {
    SSL* s = conn.adopt_accepted(SslPtr(raw));
    e.streams.start([&e, s, &run] { echo_stream(e, s, run); });
  }
  ERR_clear_error();
  if (!e.streams.join(worker_join_limit, [&waker] { waker.wake(); })) conn.leak();
  conn.report_end({e.echoed, e.echoed, 0});
  e.over = true;
}

}  // namespace

Outcome echo_blocking(SSL* listener, int listener_fd, RunContext& run) {
  const Config& config = run.config;
  Waker waker(-1, listener_fd);
  EventLoop loop(listener, run.emitter, run.interrupts.wake_fd());
  std::list<std::unique_ptr<EchoEntry>> entries;
  auto idle = listener_idle_limit(config);
  uint64_t index = 0;
  uint64_t finished = 0, last_total = 0;
  auto last_activity = Clock::now();
  Outcome ending;
  CloseRequest request{false, false, false, close_code_timeout, "timeout"};
  for (;;) {
    auto now = Clock::now();
    if (run.interrupts.take_new() > 0) {
      ending = interrupted_outcome(run.interrupts.signal());
      request = {false, false, false, close_code_interrupted, "interrupted"};
    } else if (run.run_deadline() && now >= *run.run_deadline()) {
      ending = timeout_outcome(config);
    } else if (config.idle_exit.count() > 0 && now >= last_activity + config.idle_exit) {
      ending = idle_exit_outcome(config);
      request.reason = "idle";
    }
    if (!ending.ok()) break;

    while (SslPtr conn = accept_connection(listener, config.driver, run.emitter)) {
      run.emitter.emit(ConnectionAcceptedEvent{++index});
      last_activity = now;
      auto e = std::make_unique<EchoEntry>();
      e->conn = std::make_unique<Connection>(std::move(conn), run.emitter, true);
      e->deadline = now + config.connect_timeout;
      EchoEntry* raw = e.get();
      e->thread = std::thread([raw, &run, &waker] { serve_connection(*raw, run, waker); });
      entries.push_back(std::move(e));
    }
    uint64_t live = 0;
    std::optional<Clock::time_point> next = earliest(run.run_deadline(), std::nullopt);
    for (auto it = entries.begin(); it != entries.end();) {
      EchoEntry& e = **it;
      if (e.over) {
        e.thread.join();
        finished += e.echoed;
        it = entries.erase(it);
        continue;
      }
      live += e.echoed;
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
          run.emitter.emit(WarningEvent{"connection idle for --idle-timeout: closed"});
          e.conn->abort();
          waker.wake();
        } else {
          next = earliest(next, until);
        }
      }
      // --key-update: made from here, once due and once the peer's handshake is confirmed
      // (Connection::key_update_safe); byte counts move on other threads, so look often.
      auto after = config.key_update_after;
      if (after && e.established && !e.key_updated && !e.conn->closed()) {
        if (e.echoed >= *after && e.conn->request_key_update(e.echoed)) e.key_updated = true;
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
  return ending;
}

}  // namespace quicc
