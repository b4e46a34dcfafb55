// `--get`: HTTP/0.9 requests, each on a bidirectional stream of its own ("GET /PATH\r\n", then
// FIN), many in flight at once, every response saved whole or reported lost. FetchPlan holds
// the rules both drivers obey (which request starts next, when a response is complete, what a
// failure costs, the run's one Outcome); ResponseFile is where one response goes.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "close_info.hpp"
#include "config.hpp"
#include "events.hpp"
#include "status.hpp"
#include "transfer_policy.hpp"

namespace quicc {

// Where one response goes: a file (created when its request starts, removed if the response
// fails, so that no truncated file passes for a whole one) or the run's output descriptor.
class ResponseFile {
 public:
  ResponseFile() = default;
  ResponseFile(const ResponseFile&) = delete;
  ResponseFile& operator=(const ResponseFile&) = delete;
  ~ResponseFile();

  // `path` empty: the output descriptor `fd` (not owned, never removed).
  bool open(const std::string& path, int fd, std::string& error);
  // Writes all of `data` (files never block; the output descriptor may, see the drivers).
  // On failure `error` completes "response to /PATH: ", and closed() says whether the
  // output's reader went away (EPIPE).
  bool write(const unsigned char* data, size_t length, std::string& error);
  bool closed() const { return closed_; }
  void keep();     // the response is complete
  void discard();  // the response failed: remove the file
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool owned_ = false;
  bool closed_ = false;
};

// The bytes a request stream carries before its FIN: a --get's request line, or a perf
// request's 8-byte header and its upload (zeros, never held in memory whole). Written a chunk at
// a time; a write that must be retried (all-or-nothing mode) gets the same chunk again, from the
// same address, because nothing advances until a write succeeds.
class RequestBody {
 public:
  RequestBody() = default;
  RequestBody(std::string head, uint64_t filler) : head_(std::move(head)), filler_(filler) {}

  bool done() const { return head_offset_ == head_.size() && filler_ == 0; }
  uint64_t remaining() const { return (head_.size() - head_offset_) + filler_; }
  // The next bytes to write, at most `max`: the rest of the head, else zeros.
  const unsigned char* data() const;
  size_t size(size_t max) const;
  // `n` bytes of what data() pointed to were written.
  void advance(size_t n);
  // How many of the written bytes were filler (a perf request's upload) so far.
  uint64_t filler_written() const { return filler_written_; }

 private:
  std::string head_;
  size_t head_offset_ = 0;
  uint64_t filler_ = 0;
  uint64_t filler_written_ = 0;
};

// The state of every request, shared by the drivers (the blocking driver's workers take and
// report under its lock).
class FetchPlan {
 public:
  struct Request {
    std::string path;    // "/m/1"; a perf request: "perf request N"
    std::string target;  // file it is saved to; empty: the output descriptor
  };
  enum class State { waiting, in_flight, done, failed };

  FetchPlan(const Config& config, uint64_t in_flight_limit);

  size_t size() const { return requests_.size(); }
  const Request& request(size_t i) const { return requests_[i]; }
  // A perf client's plan (Config::perf_client): every request is a perf request, and the
  // response is counted (perf_response()), not saved.
  bool perf() const { return perf_.has_value(); }
  uint64_t perf_download() const { return perf_ ? perf_->download : 0; }
  // What request `i`'s stream carries before its FIN: "GET /m/1\r\n", or the perf header and
  // upload.
  RequestBody request_body(size_t i) const;
  // A perf client with --duration: no request starts after `until`; until then, a request
  // that ends makes room for another of the same kind.
  void repeat_until(Clock::time_point until) { repeat_until_ = until; }

  // The next request to start, if one is waiting and fewer than the limit are in flight
  // (marked in flight); none once the run is ending.
  std::optional<size_t> start_next();
  // A request whose stream could not be opened yet (the peer's stream limit): back in line.
  void put_back(size_t i);
  void completed(size_t i, uint64_t bytes);
  // The response to request `i` is lost: `why` completes "response to /PATH: ".
  void failed(size_t i, Status status, const std::string& why);
  // The connection is over: every request not done fails with the connection's outcome.
  void connection_ended(const Outcome& closed);
  // An interrupt or a deadline: nothing more starts.
  void stop() { stopped_ = true; }

  size_t in_flight() const { return in_flight_; }
  bool finished() const;  // nothing in flight, nothing left to start
  bool all_done() const { return done_ == requests_.size(); }
  uint64_t bytes() const { return bytes_; }
  // The request bytes written so far (the meter's bytes out); read by any thread.
  uint64_t request_bytes() const { return request_bytes_.load(); }
  // `n` more request bytes written, `upload` of them a perf request's upload (any thread).
  void sent(uint64_t n, uint64_t upload) {
    request_bytes_ += n;
    upload_bytes_ += upload;
  }
  uint64_t upload_bytes() const { return upload_bytes_.load(); }
  size_t done() const { return done_; }
  State state(size_t i) const { return states_[i]; }
  // ok when every response is complete; otherwise the failure of the first request (in
  // request order) that failed, with how many did.
  Outcome outcome() const;

  std::mutex& lock() { return mutex_; }

 private:
  std::vector<Request> requests_;
  std::vector<State> states_;
  std::vector<size_t> returned_;  // put back, started before the next new one
  size_t next_ = 0;
  size_t in_flight_ = 0;
  uint64_t limit_;
  size_t done_ = 0;
  size_t failures_ = 0;
  uint64_t bytes_ = 0;
  std::atomic<uint64_t> request_bytes_{0};
  std::atomic<uint64_t> upload_bytes_{0};
  std::optional<Config::PerfClient> perf_;
  std::optional<Clock::time_point> repeat_until_;
  bool stopped_ = false;
  Outcome first_failure_;
  size_t first_failure_index_ = 0;
  std::mutex mutex_;
};

// A perf client's reports (PerfEvent): one for every second while the requests run, one for
// the whole run at its end. Used by the driver's main thread; the figures are passed in (the
// blocking driver's counts are atomic or read under the plan's lock).
class PerfMeter {
 public:
  PerfMeter(Emitter& emitter, uint64_t streams, Clock::time_point started)
      : emitter_(emitter), streams_(streams), started_(started), next_(started + interval) {}
  static constexpr std::chrono::seconds interval{1};

  // Emits the reports due by `now`; returns when the next is due.
  Clock::time_point tick(uint64_t up, uint64_t down, uint64_t done, Clock::time_point now);
  // The run's report (once): every byte and request since the start.
  void finish(uint64_t up, uint64_t down, uint64_t done, Clock::time_point now);

 private:
  std::chrono::microseconds since(Clock::time_point t) const {
    return std::chrono::duration_cast<std::chrono::microseconds>(t - started_);
  }
  Emitter& emitter_;
  uint64_t streams_;
  Clock::time_point started_;
  Clock::time_point next_;
  Clock::time_point last_ = started_;
  uint64_t last_up_ = 0, last_down_ = 0;
  bool finished_ = false;
};

// A response's stream failed: true (with the peer's code, stream_code_unknown if OpenSSL lost
// it) when the peer reset it; false when the connection is over (reported for every request
// at once by connection_ended). `why` completes "response to /PATH: ".
class Connection;
bool response_reset(const Connection& conn, SSL* stream, uint64_t bytes, uint64_t& code,
                    std::string& why);

// The response event of request `i` (emitted when it completes).
ResponseEvent response_event(const FetchPlan& plan, size_t i, uint64_t stream_id, uint64_t bytes,
                             std::chrono::microseconds took);

}  // namespace quicc
