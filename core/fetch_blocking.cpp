// `--get` under the blocking driver: worker threads, each taking the next request, opening its
// stream (OpenSSL's blocking SSL_new_stream waits for the peer's MAX_STREAMS at its limit),
// writing the request with FIN and reading the response to its end. The calling thread watches
// interrupts, deadlines and the connection, closes it, wakes the workers blocked inside
// OpenSSL and joins them. As many workers as --max-streams, else as many as there are
// requests, at most blocking_fetch_threads.
#include <openssl/err.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "blocking.hpp"
#include "drivers.hpp"
#include "event_loop.hpp"
#include "fetch.hpp"
#include "local_io.hpp"
#include "perf_framing.hpp"
#include "stream_writer.hpp"

namespace quicc {

namespace {

constexpr uint64_t blocking_fetch_threads = 32;

struct Shared {
  Connection& conn;
  RunContext& run;
  FetchPlan& plan;
  Notifier notify;  // a worker ended, or a response did
  Notifier stop;    // the run is ending: stop waiting for the output (never drained)
  std::atomic<uint64_t> bytes{0};
};

// Writes a response to the output descriptor as it takes it, waiting in poll() (with the
// run's stop) rather than in a write() that a reader who stopped reading would block for good:
// an interrupt must end the run at once. False when told to stop, or the output failed.
bool write_output(Shared& s, const unsigned char* data, size_t length, bool& closed,
                  std::string& error) {
  LocalOutput output(s.run.config.output_fd);
  while (length > 0) {
    if (!output.always_ready() && !wait_ready(output.fd(), POLLOUT, s.stop.fd())) {
      error = "the run ended while the output was not taking the response";
      return false;
    }
    size_t n = 0;
    switch (output.write(data, length, n, error)) {
      case LocalOutput::Result::written:
        data += n;
        length -= n;
        break;
      case LocalOutput::Result::not_ready:
        break;
      case LocalOutput::Result::closed:
        closed = true;
        error = "output closed by its reader";
        return false;
      case LocalOutput::Result::failed:
        error = "cannot write the output: " + error;
        return false;
    }
  }
  return true;
}

// One request, start to end; false when the connection is over (no more requests then).
bool exchange(Shared& s, size_t i, std::vector<unsigned char>& buffer) {
  Emitter& emitter = s.run.emitter;
  auto started = Clock::now();
  std::string error;
  SSL* stream = s.conn.open_stream(true, error);
  if (!stream) {
    std::lock_guard lock(s.plan.lock());
    if (!error.empty() && !s.conn.closed()) {
      s.plan.failed(i, Status::internal, error);
      s.plan.stop();
    }
    return false;  // a closed connection fails what is left (connection_ended)
  }
  uint64_t id = SSL_get_stream_id(stream);
  ResponseFile file;
  RequestBody request;
  std::optional<PerfResponseCounter> perf;
  bool ok = true;
  {
    std::lock_guard lock(s.plan.lock());
    request = s.plan.request_body(i);
    if (s.plan.perf()) perf.emplace(s.plan.perf_download());
  }
  if (!perf && !(ok = file.open(s.plan.request(i).target, s.run.config.output_fd, error))) {
    std::lock_guard lock(s.plan.lock());
    s.plan.failed(i, Status::io_error, error);
    s.plan.stop();
  }
  // The request, a chunk at a time (a perf upload may be large), FIN with its last one. The
  // perf server reads the whole upload before it answers, so writing all of it first cannot
  // wait on our reading.
  while (ok) {
    size_t size = request.size(chunk_size), written = 0;
    bool last = size == request.remaining();
    uint64_t filler_before = request.filler_written();
    ERR_clear_error();
    if (SSL_write_ex2(stream, request.data(), size, last ? SSL_WRITE_FLAG_CONCLUDE : 0,
                      &written) != 1) {
      ok = false;
      break;
    }
    request.advance(written);
    s.plan.sent(written, request.filler_written() - filler_before);
    if (last && written == size) {
      emitter.emit(StreamEvent{id, StreamChange::fin_sent, {}});
      break;
    }
  }
  uint64_t bytes = 0;
  size_t n = 0;
  bool counted_wrong = false;
  while (ok && (ERR_clear_error(), SSL_read_ex(stream, buffer.data(), buffer.size(), &n) == 1)) {
    if (bytes == 0) emitter.emit(FirstByteEvent{id});
    bytes += n;
    s.bytes += n;
    if (perf) {
      if (!perf->add(n)) {
        std::lock_guard lock(s.plan.lock());
        s.plan.failed(i, Status::incomplete, *perf->error());
        ok = false;
        counted_wrong = true;
      }
      continue;
    }
    bool closed = false;
    bool wrote = file.path().empty() ? write_output(s, buffer.data(), n, closed, error)
                                     : file.write(buffer.data(), n, error);
    if (!wrote) {
      std::lock_guard lock(s.plan.lock());
      s.plan.failed(i, closed || file.closed() ? Status::output_closed : Status::io_error, error);
      s.plan.stop();
      ok = false;
    }
  }
  bool going = true;
  // The stream's end comes from its read state: SSL_get_error reports the stream's last error,
  // whichever call made it (see ARCHITECTURE.md).
  std::optional<std::string> perf_error;
  if (ok && SSL_get_stream_read_state(stream) == SSL_STREAM_STATE_FINISHED && perf &&
      (perf_error = perf->error_at_fin())) {
    emitter.emit(StreamEvent{id, StreamChange::fin_received, {}});
    std::lock_guard lock(s.plan.lock());
    s.plan.failed(i, Status::incomplete, *perf_error);
  } else if (counted_wrong) {
    // failed above: more bytes than requested
  } else if (ok && SSL_get_stream_read_state(stream) == SSL_STREAM_STATE_FINISHED) {
    emitter.emit(StreamEvent{id, StreamChange::fin_received, {}});
    ResponseEvent done;
    {
      // Under the lock: with --duration another worker may be adding requests to the plan.
      std::lock_guard lock(s.plan.lock());
      done = response_event(s.plan, i, id, bytes,
                            std::chrono::duration_cast<std::chrono::microseconds>(
                                Clock::now() - started));
    }
    emitter.emit(done);
    file.keep();
    std::lock_guard lock(s.plan.lock());
    s.plan.completed(i, bytes);
  } else {
    file.discard();
    uint64_t code = 0;
    std::string why;
    if (response_reset(s.conn, stream, bytes, code, why)) {
      emitter.emit(StreamEvent{id, StreamChange::reset_received, code});
      std::lock_guard lock(s.plan.lock());
      s.plan.failed(i, Status::stream_reset, why);
    } else if (ok) {
      going = false;  // the connection is over
    }
  }
  ERR_clear_error();
  s.conn.forget_stream(stream);
  s.notify.notify();
  return going;
}

void worker(Shared& s) {
  std::vector<unsigned char> buffer(chunk_size);
  for (;;) {
    std::optional<size_t> next;
    {
      std::lock_guard lock(s.plan.lock());
      next = s.plan.start_next();
    }
    if (!next || !exchange(s, *next, buffer)) break;
  }
  s.notify.notify();
}

}  // namespace

Outcome fetch_blocking(Connection& conn, RunContext& run, Waker& waker) {
  const Config& config = run.config;
  FetchPlan plan(config, 0);  // the workers are the limit
  Shared shared{conn, run, plan};
  uint64_t threads = config.max_streams > 0 ? config.max_streams : blocking_fetch_threads;
  threads = std::min<uint64_t>(threads, plan.size());
  std::optional<PerfMeter> perf;
  if (config.perf_client) {
    threads = config.perf_client->streams;  // one request stream each, at once
    perf.emplace(conn.emitter(), config.perf_client->streams, Clock::now());
    if (config.perf_client->duration.count() > 0)
      plan.repeat_until(Clock::now() + config.perf_client->duration);
  }
  auto perf_figures = [&](Clock::time_point now, bool final) {
    size_t done;
    {
      std::lock_guard lock(plan.lock());
      done = plan.done();
    }
    if (final) perf->finish(plan.upload_bytes(), shared.bytes, done, now);
    return perf->tick(plan.upload_bytes(), shared.bytes, done, now);
  };
  Workers workers;
  for (uint64_t t = 0; t < threads; ++t) workers.start([&shared] { worker(shared); });

  Outcome ending;
  CloseRequest request = finished_close(config.shutdown);
  auto last_activity = Clock::now();
  uint64_t last_bytes = 0;
  bool key_updated = false;
  TransferMeter meter(run);
  for (;;) {
    auto now = Clock::now();
    auto meter_due = meter.tick(shared.bytes, plan.request_bytes(), conn, now);
    if (perf) meter_due = earliest(meter_due, perf_figures(now, false));
    RunEnding end = run_ending(run, last_activity, now);
    if (!end.outcome.ok()) {
      ending = end.outcome;
      request = end.close;
      break;
    }
    if (workers.running() == 0 || conn.closed()) break;
    {
      // The last worker's notification comes before it counts as ended: the plan says so.
      std::lock_guard lock(plan.lock());
      if (plan.finished()) break;
    }
    uint64_t bytes = shared.bytes;
    // Activity is bytes moving either way: a perf upload receives nothing for a long while.
    uint64_t moved = bytes + plan.request_bytes();
    if (moved != last_bytes) last_activity = now;
    last_bytes = moved;
    std::optional<Clock::time_point> next = run.run_deadline();
    if (config.idle_exit.count() > 0) {
      next = earliest(next, last_activity + config.idle_exit);
      next = earliest(next, now + std::chrono::milliseconds(100));  // bytes move elsewhere
    }
    if (config.key_update_after && !key_updated) {
      if (bytes >= *config.key_update_after && conn.key_update_safe())
        key_updated = conn.request_key_update(bytes);
      else
        next = earliest(next, now + std::chrono::milliseconds(10));
    }
    // The connection's close is noticed at the latest within 100 ms.
    next = earliest(next, now + std::chrono::milliseconds(100));
    next = earliest(next, meter_due);
    if (wait_readable({shared.notify.fd()}, run.interrupts.wake_fd(), next) & 1u)
      shared.notify.drain();
  }

  {
    std::lock_guard lock(plan.lock());
    plan.stop();
  }
  if (perf) perf_figures(Clock::now(), true);
  if (!ending.ok()) shared.stop.notify();
  // Done: the close (close_fetch). An interrupt or a deadline: at once, what is in flight is
  // lost. The workers are done (or stopped), so this thread runs OpenSSL's event loop itself:
  // nothing else would fire its timers (our ACK of the peer's last data waited 100 ms).
  if (!conn.closed()) {
    EventLoop loop(conn.ssl(), run.emitter, run.interrupts.wake_fd());
    close_fetch(conn, run, loop, ending, request);
  }
  if (!conn.closed()) conn.abort();
  if (!workers.join(worker_join_limit, [&waker] { waker.wake(); })) {
    run.emitter.emit(WarningEvent{"a worker thread did not end; leaving it behind"});
    conn.leak();
  }
  {
    std::lock_guard lock(plan.lock());
    auto info = conn.close_info();
    plan.connection_ended(!ending.ok() ? ending : info ? close_outcome(*info) : Outcome{});
  }
  // A perf client's bytes out are its requests' (--get's request lines are not counted).
  conn.report_end({plan.bytes(), plan.perf() ? plan.request_bytes() : 0, 0});
  if (!ending.ok()) return ending;
  return plan.outcome();
}

}  // namespace quicc
