// `--get` under the non-blocking driver: every request's stream moved by one poll() loop.
// Requests start while fewer than the limit are in flight; at the peer's stream limit
// (SSL_R_STREAM_COUNT_LIMITED) the next waits for its MAX_STREAMS. Responses to files are
// written as they arrive (files never block); a response to the output descriptor is read
// only as fast as that descriptor takes it.
#include <openssl/err.h>

#include <list>
#include <memory>
#include <vector>

#include "drivers.hpp"
#include "event_loop.hpp"
#include "fetch.hpp"
#include "local_io.hpp"
#include "perf_framing.hpp"
#include "stream_writer.hpp"

namespace quicc {

namespace {

// Bytes read per stream per turn before the loop turns again, so that every stream moves.
constexpr uint64_t turn_budget = 4 * chunk_size;

struct Exchange {
  size_t index = 0;
  SSL* stream = nullptr;
  uint64_t id = 0;
  RequestBody request;  // what is left to write before the FIN
  bool fin_sent = false;
  ResponseFile file;
  std::optional<PerfResponseCounter> perf;  // a perf request's response: counted, not saved
  std::vector<unsigned char> pending;  // read, not yet taken by the output descriptor
  uint64_t bytes = 0;
  Clock::time_point started;
};

class NonblockingFetch {
 public:
  NonblockingFetch(Connection& conn, RunContext& run, FetchPlan& plan)
      : conn_(conn), run_(run), plan_(plan), output_(run.config.output_fd),
        buffer_(chunk_size) {}

  // Opens streams for the requests that may start; false on a failure that ends the run.
  void start_requests() {
    while (auto i = plan_.start_next()) {
      std::string error;
      SSL* s = conn_.open_stream(false, error);
      if (!s) {
        plan_.put_back(*i);
        if (!error.empty()) {
          plan_.failed(*i, Status::internal, error);
          plan_.stop();
        }
        return;  // at the peer's limit: its MAX_STREAMS will let the next one go
      }
      auto& x = exchanges_.emplace_back();
      x.index = *i;
      x.stream = s;
      x.id = SSL_get_stream_id(s);
      x.request = plan_.request_body(*i);
      x.started = Clock::now();
      if (plan_.perf()) {
        x.perf.emplace(plan_.perf_download());
      } else if (!x.file.open(plan_.request(*i).target, output_.fd(), error)) {
        plan_.failed(*i, Status::io_error, error);
        plan_.stop();
        finish(x, false);
      }
    }
  }

  // Response bytes read so far, of every request.
  uint64_t received() const { return received_; }

  // Moves every exchange; true if any byte moved.
  bool step(bool& busy) {
    bool moved = false;
    for (auto it = exchanges_.begin(); it != exchanges_.end();) {
      if (!it->stream) {
        it = exchanges_.erase(it);
        continue;
      }
      moved = move(*it, busy) || moved;
      if (it->stream) ++it;
      else it = exchanges_.erase(it);
    }
    return moved;
  }

  // poll() said the output takes a write (one write each time: see local_io.hpp).
  void output_ready() { output_ready_ = true; }

  bool wants_output() const {
    for (const auto& x : exchanges_)
      if (!x.pending.empty()) return true;
    return false;
  }

  // The connection is over: what was in flight is lost.
  void abandon() {
    for (auto& x : exchanges_)
      if (x.stream) finish(x, false);
    exchanges_.clear();
  }

 private:
  bool move(Exchange& x, bool& busy) {
    bool moved = false;
    // The request, a chunk at a time (a perf upload may be large), FIN with its last one.
    for (uint64_t sent = 0; !x.fin_sent;) {
      if (sent >= turn_budget) {
        busy = true;
        break;
      }
      size_t size = x.request.size(chunk_size);
      bool last = size == x.request.remaining();
      size_t written = 0;
      uint64_t filler_before = x.request.filler_written();
      ERR_clear_error();
      if (SSL_write_ex2(x.stream, x.request.data(), size, last ? SSL_WRITE_FLAG_CONCLUDE : 0,
                        &written) == 1) {
        x.request.advance(written);
        plan_.sent(written, x.request.filler_written() - filler_before);
        sent += written;
        moved = true;
        if (last && written == size) {
          x.fin_sent = true;
          run_.emitter.emit(StreamEvent{x.id, StreamChange::fin_sent, {}});
        }
        continue;
      }
      int e = SSL_get_error(x.stream, 0);
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) break;
      return stream_failed(x) || moved;
    }
    uint64_t read = 0;
    for (;;) {
      if (!flush_pending(x)) return moved;
      if (!x.pending.empty()) return moved;  // the output will say when it takes more
      if (read >= turn_budget) {
        busy = true;
        return moved;
      }
      size_t n = 0;
      ERR_clear_error();
      if (SSL_read_ex(x.stream, buffer_.data(), buffer_.size(), &n) == 1) {
        read += n;
        if (x.bytes == 0) run_.emitter.emit(FirstByteEvent{x.id});
        x.bytes += n;
        received_ += n;
        moved = true;
        if (x.perf) {
          if (!x.perf->add(n)) {
            plan_.failed(x.index, Status::incomplete, *x.perf->error());
            finish(x, false);
            return true;
          }
          continue;
        }
        if (x.file.path().empty()) {
          x.pending.assign(buffer_.begin(), buffer_.begin() + static_cast<long>(n));
          continue;
        }
        std::string error;
        if (!x.file.write(buffer_.data(), n, error)) {
          plan_.failed(x.index, Status::io_error, error);
          finish(x, false);
          return true;
        }
        continue;
      }
      int e = SSL_get_error(x.stream, 0);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return moved;
      if (SSL_get_stream_read_state(x.stream) == SSL_STREAM_STATE_FINISHED) {
        run_.emitter.emit(StreamEvent{x.id, StreamChange::fin_received, {}});
        if (x.perf && !x.fin_sent) {
          // The server answered before our request was over: not by the draft's rules.
          plan_.failed(x.index, Status::incomplete, "the server's FIN came before the request's");
          finish(x, false);
          return true;
        }
        if (auto error = x.perf ? x.perf->error_at_fin() : std::nullopt) {
          plan_.failed(x.index, Status::incomplete, *error);
          finish(x, false);
          return true;
        }
        run_.emitter.emit(response_event(plan_, x.index, x.id, x.bytes,
                                         std::chrono::duration_cast<std::chrono::microseconds>(
                                             Clock::now() - x.started)));
        plan_.completed(x.index, x.bytes);
        finish(x, true);
        return true;
      }
      return stream_failed(x) || moved;
    }
  }

  // The output descriptor takes what it can of the pending bytes; false if it failed.
  bool flush_pending(Exchange& x) {
    while (!x.pending.empty()) {
      if (!output_.always_ready() && !output_ready_) return true;
      output_ready_ = false;
      size_t n = 0;
      std::string error;
      switch (output_.write(x.pending.data(), x.pending.size(), n, error)) {
        case LocalOutput::Result::written:
          x.pending.erase(x.pending.begin(), x.pending.begin() + static_cast<long>(n));
          break;
        case LocalOutput::Result::not_ready:
          return true;
        case LocalOutput::Result::closed:
          plan_.failed(x.index, Status::output_closed, "output closed by its reader");
          plan_.stop();
          finish(x, false);
          return false;
        case LocalOutput::Result::failed:
          plan_.failed(x.index, Status::io_error, "cannot write the output: " + error);
          plan_.stop();
          finish(x, false);
          return false;
      }
    }
    return true;
  }

  // A read or write failed: the peer reset the stream, or the connection is over (reported
  // by the loop, for every request at once).
  bool stream_failed(Exchange& x) {
    uint64_t code = 0;
    std::string why;
    if (!response_reset(conn_, x.stream, x.bytes, code, why)) return false;
    run_.emitter.emit(StreamEvent{x.id, StreamChange::reset_received, code});
    plan_.failed(x.index, Status::stream_reset, why);
    finish(x, false);
    return true;
  }

  void finish(Exchange& x, bool complete) {
    if (complete) x.file.keep();
    else x.file.discard();
    if (x.stream) conn_.forget_stream(x.stream);
    x.stream = nullptr;
  }

  Connection& conn_;
  RunContext& run_;
  FetchPlan& plan_;
  LocalOutput output_;
  std::vector<unsigned char> buffer_;
  uint64_t received_ = 0;
  std::list<Exchange> exchanges_;
  bool output_ready_ = false;
};

}  // namespace

Outcome fetch_nonblocking(Connection& conn, RunContext& run) {
  const Config& config = run.config;
  FetchPlan plan(config, config.perf_client ? config.perf_client->streams : config.max_streams);
  NonblockingFetch fetch(conn, run, plan);
  std::optional<PerfMeter> perf;
  if (config.perf_client) {
    perf.emplace(conn.emitter(), config.perf_client->streams, Clock::now());
    if (config.perf_client->duration.count() > 0)
      plan.repeat_until(Clock::now() + config.perf_client->duration);
  }
  EventLoop loop(conn.ssl(), run.emitter, run.interrupts.wake_fd());
  Outcome ending;  // an interrupt or a deadline
  CloseRequest request = finished_close(config.shutdown);
  auto last_activity = Clock::now();
  bool key_updated = false;
  TransferMeter meter(run);
  for (;;) {
    auto now = Clock::now();
    auto meter_due = meter.tick(fetch.received(), plan.request_bytes(), conn, now);
    if (perf)
      meter_due = earliest(meter_due, perf->tick(plan.upload_bytes(), fetch.received(), plan.done(), now));
    RunEnding end = run_ending(run, last_activity, now);
    if (!end.outcome.ok()) {
      ending = end.outcome;
      request = end.close;
      plan.stop();
      break;
    }
    // OpenSSL 3.5 was seen reporting no timer at all (an infinite event timeout) on a client
    // whose server died mid-response, so its idle timeout never fired: keep our own.
    auto idle = listener_idle_limit(config);
    if (idle && !conn.closed() && now - conn.last_datagram_in() >= *idle) {
      conn.abort();
      fetch.abandon();
      plan.connection_ended(close_outcome(local_idle_close()));
      break;
    }
    if (auto info = conn.close_info()) {
      // What arrived before the close is still readable: save it, then count the rest lost.
      for (bool busy = true; busy;) {
        busy = false;
        fetch.step(busy);
      }
      fetch.abandon();
      plan.connection_ended(close_outcome(*info));
      break;
    }
    fetch.start_requests();
    bool busy = false;
    // Anything that moved (a response ended, making room for the next request) is looked at
    // again before sleeping.
    if (fetch.step(busy)) {
      last_activity = now;
      busy = true;
    }
    if (config.key_update_after && !key_updated && plan.bytes() >= *config.key_update_after &&
        conn.key_update_safe())
      key_updated = conn.request_key_update(plan.bytes());
    if (plan.finished()) break;

    std::optional<Clock::time_point> deadline = run.run_deadline();
    if (config.idle_exit.count() > 0) deadline = earliest(deadline, last_activity + config.idle_exit);
    if (config.key_update_after && !key_updated)
      deadline = earliest(deadline, now + std::chrono::milliseconds(10));
    if (idle) deadline = earliest(deadline, conn.last_datagram_in() + *idle);
    deadline = earliest(deadline, meter_due);
    if (busy) deadline = now;
    PipeInterest interest;
    if (fetch.wants_output()) interest.write_fd = config.output_fd;
    if (loop.wait(interest, deadline) & wake_output) fetch.output_ready();
  }

  if (perf) perf->finish(plan.upload_bytes(), fetch.received(), plan.done(), Clock::now());
  // Close: at once after an interrupt or a deadline (in-flight responses are lost); else once
  // the peer's last data is acknowledged (at most 100 ms), gracefully, bounded.
  close_fetch(conn, run, loop, ending, request);
  if (!ending.ok()) {
    fetch.abandon();  // in-flight responses are lost: no partial file stays behind
    plan.connection_ended(ending);
  }
  // A perf client's bytes out are its requests' (--get's request lines are not counted).
  conn.report_end({plan.bytes(), plan.perf() ? plan.request_bytes() : 0, 0});
  if (!ending.ok()) return ending;
  return plan.outcome();
}

}  // namespace quicc
