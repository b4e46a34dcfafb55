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

// The state of every request, shared by the drivers (the blocking driver's workers take and
// report under its lock).
class FetchPlan {
 public:
  struct Request {
    std::string path;    // "/m/1"
    std::string target;  // file it is saved to; empty: the output descriptor
  };
  enum class State { waiting, in_flight, done, failed };

  FetchPlan(const Config& config, uint64_t in_flight_limit);

  size_t size() const { return requests_.size(); }
  const Request& request(size_t i) const { return requests_[i]; }
  // The request line: "GET /m/1\r\n".
  std::string request_line(size_t i) const { return "GET " + requests_[i].path + "\r\n"; }

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
  // The request lines started so far (the meter's bytes out); read by any thread.
  uint64_t request_bytes() const { return request_bytes_.load(); }
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
  bool stopped_ = false;
  Outcome first_failure_;
  size_t first_failure_index_ = 0;
  std::mutex mutex_;
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
