#include "fetch.hpp"

#include "connection.hpp"
#include "perf_framing.hpp"
#include "stream_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <openssl/err.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>

namespace quicc {

ResponseFile::~ResponseFile() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

bool ResponseFile::open(const std::string& path, int fd, std::string& error) {
  path_ = path;
  if (path.empty()) {
    fd_ = fd;
    return true;
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  owned_ = true;
  return true;
}

bool ResponseFile::write(const unsigned char* data, size_t length, std::string& error) {
  while (length > 0) {
    ssize_t n = ::write(fd_, data, length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      closed_ = errno == EPIPE;
      error = closed_ ? "output closed by its reader"
                      : "cannot write '" + (path_.empty() ? "the output" : path_) +
                            "': " + std::strerror(errno);
      return false;
    }
    data += n;
    length -= static_cast<size_t>(n);
  }
  return true;
}

void ResponseFile::keep() {
  if (!owned_ || fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
}

void ResponseFile::discard() {
  if (!owned_ || fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(path_.c_str());
}

namespace {

// A perf request's upload: zeros, one chunk of them for every write.
const std::vector<unsigned char>& zeros() {
  static const std::vector<unsigned char> z(chunk_size, 0);
  return z;
}

std::string perf_request_name(size_t i) { return "perf request " + std::to_string(i + 1); }

}  // namespace

const unsigned char* RequestBody::data() const {
  if (head_offset_ < head_.size())
    return reinterpret_cast<const unsigned char*>(head_.data()) + head_offset_;
  return zeros().data();
}

size_t RequestBody::size(size_t max) const {
  if (head_offset_ < head_.size()) return std::min(max, head_.size() - head_offset_);
  return static_cast<size_t>(std::min<uint64_t>({max, filler_, zeros().size()}));
}

void RequestBody::advance(size_t n) {
  if (head_offset_ < head_.size()) {
    head_offset_ += n;
    return;
  }
  filler_ -= n;
  filler_written_ += n;
}

RequestBody FetchPlan::request_body(size_t i) const {
  if (!perf_) return {"GET " + requests_[i].path + "\r\n", 0};
  PerfHeader header = perf_request_header(perf_->download);
  return {std::string(header.begin(), header.end()), perf_->upload};
}

FetchPlan::FetchPlan(const Config& config, uint64_t in_flight_limit)
    : states_(config.requests.size(), State::waiting), limit_(in_flight_limit),
      perf_(config.perf_client) {
  if (perf_) {
    // One request per stream to begin with; --duration adds more as they end.
    for (uint64_t k = 0; k < perf_->streams; ++k) requests_.push_back({perf_request_name(k), ""});
    states_.assign(requests_.size(), State::waiting);
    return;
  }
  for (const auto& path : config.requests) {
    std::string target = config.output_file;
    if (!config.output_dir.empty())
      target = config.output_dir + "/" + path.substr(path.rfind('/') + 1);
    requests_.push_back({path, target});
  }
}

std::optional<size_t> FetchPlan::start_next() {
  if (stopped_ || (limit_ > 0 && in_flight_ >= limit_)) return std::nullopt;
  size_t i;
  if (!returned_.empty()) {
    i = returned_.back();
    returned_.pop_back();
  } else if (next_ < requests_.size()) {
    i = next_++;
  } else if (repeat_until_ && Clock::now() < *repeat_until_) {
    requests_.push_back({perf_request_name(requests_.size()), ""});
    states_.push_back(State::waiting);
    i = next_++;
  } else {
    return std::nullopt;
  }
  states_[i] = State::in_flight;
  ++in_flight_;
  return i;
}

void FetchPlan::put_back(size_t i) {
  states_[i] = State::waiting;
  --in_flight_;
  returned_.push_back(i);
}

void FetchPlan::completed(size_t i, uint64_t bytes) {
  if (states_[i] != State::in_flight) return;
  states_[i] = State::done;
  --in_flight_;
  ++done_;
  bytes_ += bytes;
}

void FetchPlan::failed(size_t i, Status status, const std::string& why) {
  if (states_[i] == State::done || states_[i] == State::failed) return;
  if (states_[i] == State::in_flight) --in_flight_;
  states_[i] = State::failed;
  // The first in request order, not in time: the same run reports the same path under both
  // drivers, however its streams interleave.
  if (failures_++ == 0 || i < first_failure_index_) {
    first_failure_ = {status, "response to " + requests_[i].path + ": " + why};
    first_failure_index_ = i;
  }
}

void FetchPlan::connection_ended(const Outcome& closed) {
  stopped_ = true;
  std::string why = closed.ok() ? "the connection closed before its FIN" : closed.message;
  Status status = closed.ok() ? Status::incomplete : closed.status;
  for (size_t i = 0; i < requests_.size(); ++i)
    if (states_[i] == State::waiting || states_[i] == State::in_flight)
      failed(i, status, states_[i] == State::waiting ? "never sent: " + why : why);
}

bool FetchPlan::finished() const {
  if (in_flight_ > 0) return false;
  return stopped_ || (returned_.empty() && next_ == requests_.size() &&
                      !(repeat_until_ && Clock::now() < *repeat_until_));
}

Outcome FetchPlan::outcome() const {
  if (failures_ == 0) {
    if (done_ == requests_.size()) return {};
    return {Status::incomplete, std::to_string(requests_.size() - done_) + " of " +
                                    std::to_string(requests_.size()) + " responses not received"};
  }
  Outcome o = first_failure_;
  if (failures_ > 1)
    o.message += " (" + std::to_string(failures_) + " of " + std::to_string(requests_.size()) +
                 " responses lost)";
  return o;
}

Clock::time_point PerfMeter::tick(uint64_t up, uint64_t down, uint64_t done,
                                  Clock::time_point now) {
  if (now >= next_ && !finished_) {
    emitter_.emit(PerfEvent{false, since(last_), since(now), up - last_up_, down - last_down_,
                            done, streams_});
    last_ = now;
    last_up_ = up;
    last_down_ = down;
    // A late turn does not make up for the seconds it missed: the next report is a second on.
    next_ = std::max(next_ + interval, now + std::chrono::milliseconds(100));
  }
  return next_;
}

void PerfMeter::finish(uint64_t up, uint64_t down, uint64_t done, Clock::time_point now) {
  if (finished_) return;
  finished_ = true;
  emitter_.emit(PerfEvent{true, {}, since(now), up, down, done, streams_});
}

bool response_reset(const Connection& conn, SSL* stream, uint64_t bytes, uint64_t& code,
                    std::string& why) {
  auto wire_code = conn.peer_reset_code(stream);
  int state = SSL_get_stream_read_state(stream);
  ERR_clear_error();
  if (state == SSL_STREAM_STATE_CONN_CLOSED && !wire_code) return false;
  code = wire_code.value_or(stream_code_unknown);
  if (!wire_code && state == SSL_STREAM_STATE_RESET_REMOTE)
    SSL_get_stream_read_error_code(stream, &code);
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(code));
  why = "peer reset the stream (code " + std::string(hex) + ") after " + std::to_string(bytes) +
        " bytes";
  return true;
}

ResponseEvent response_event(const FetchPlan& plan, size_t i, uint64_t stream_id, uint64_t bytes,
                             std::chrono::microseconds took) {
  const auto& r = plan.request(i);
  return {r.path, stream_id, bytes, static_cast<uint64_t>(took.count()),
          r.target.empty() ? "-" : r.target};
}

}  // namespace quicc
