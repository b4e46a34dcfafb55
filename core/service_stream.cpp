#include "service_stream.hpp"

#include <openssl/err.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "close_info.hpp"
#include "serve_path.hpp"

namespace quicc {

namespace {

// Per turn; past it the service turns again without waiting, so other streams get their turn.
constexpr uint64_t turn_budget = 4 * chunk_size;

// --source's bytes: a pattern that repeats every 251 bytes (a prime, so it does not line up
// with any power-of-two buffer), copied from here at the right phase.
constexpr size_t pattern_period = 251;
const std::array<unsigned char, chunk_size + pattern_period>& source_pattern() {
  static const auto pattern = [] {
    std::array<unsigned char, chunk_size + pattern_period> p{};
    for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<unsigned char>('a' + i % pattern_period % 26);
    return p;
  }();
  return pattern;
}

// Why a stream operation failed, unless it is the connection's end (reported once, by the
// connection's owner, not by each of its streams).
void stream_failure(SSL* stream, bool reading, Emitter& emitter, Outcome& outcome) {
  int state = reading ? SSL_get_stream_read_state(stream) : SSL_get_stream_write_state(stream);
  uint64_t code = 0;
  uint64_t id = SSL_get_stream_id(stream);
  ERR_clear_error();
  switch (state) {
    case SSL_STREAM_STATE_CONN_CLOSED:
      return;
    case SSL_STREAM_STATE_RESET_REMOTE:
    case SSL_STREAM_STATE_RESET_LOCAL:
      if (reading) SSL_get_stream_read_error_code(stream, &code);
      else SSL_get_stream_write_error_code(stream, &code);
      emitter.emit(StreamEvent{id, StreamChange::reset_received, code});
      outcome = {Status::stream_reset,
                 "stream " + std::to_string(id) +
                     (reading ? ": peer reset it (code " : ": peer stopped reading it (code ") +
                     hex_code(code) + ")"};
      return;
    default:
      outcome = {Status::io_error, "stream " + std::to_string(id) + ": " +
                                       (reading ? "reading" : "writing") + " failed"};
      return;
  }
}

}  // namespace

ServiceStream::ServiceStream(SSL* stream, const Config& config, Emitter& emitter, bool blocking)
    : stream_(stream),
      config_(config),
      emitter_(emitter),
      id_(SSL_get_stream_id(stream)),
      bidi_(stream_is_bidi(stream)),
      blocking_(blocking),
      pending_(config.moving_buffer),
      perf_(stream_is_bidi(stream)) {
  if (bidi_) apply_write_mode(stream, config);
  if (config.service == Service::source && bidi_) to_generate_ = config.source_size;
  if (config.service != Service::echo || !bidi_) discard_.resize(chunk_size);
}

bool ServiceStream::fill() {
  if (to_generate_ > 0) {  // --source, --perf
    size_t n = static_cast<size_t>(std::min<uint64_t>(to_generate_, pending_.capacity()));
    const auto& pattern = source_pattern();
    size_t phase = static_cast<size_t>(generated_ % pattern_period);
    std::memcpy(pending_.space(), pattern.data() + phase, n);
    pending_.filled(n);
    to_generate_ -= n;
    generated_ += n;
    return true;
  }
  if (config_.service == Service::serve && file_.get() >= 0) {
    ssize_t n;
    do n = ::read(file_.get(), pending_.space(), pending_.capacity());
    while (n < 0 && errno == EINTR);
    if (n > 0) {
      pending_.filled(static_cast<size_t>(n));
      return true;
    }
    if (n < 0) read_error_ = std::strerror(errno);
    file_ = UniqueFd();  // all of it sent (or unreadable: see read_error_)
  }
  return false;
}

bool ServiceStream::conclude(Outcome& outcome) {
  ERR_clear_error();
  if (SSL_stream_conclude(stream_, 0) != 1) {
    stream_failure(stream_, false, emitter_, outcome);
    return false;
  }
  fin_sent_ = true;
  emitter_.emit(StreamEvent{id_, StreamChange::fin_sent, {}});
  return true;
}

bool ServiceStream::refuse(const std::string& what, Outcome& outcome) {
  ERR_clear_error();
  SSL_STREAM_RESET_ARGS args{stream_code_refused};
  if (SSL_stream_reset(stream_, &args, sizeof args) == 1)
    emitter_.emit(StreamEvent{id_, StreamChange::reset_sent, stream_code_refused});
  ERR_clear_error();
  outcome = {Status::stream_reset, "stream " + std::to_string(id_) + ": " + what +
                                       " (stream reset with code " + hex_code(stream_code_refused) + ")"};
  return false;
}

bool ServiceStream::answer_request(Outcome& outcome) {
  answered_ = true;
  if (on_answer_) on_answer_();
  std::string error;
  std::optional<std::string> path;
  if (request_.size() > max_request_size)
    error = "request longer than " + std::to_string(max_request_size) + " bytes";
  else
    path = parse_get_request(request_, error);
  // The request as the client sent it (its first line), for the log: peer text, which the
  // sinks escape.
  std::string shown = request_.substr(0, std::min(request_.find_first_of("\r\n"), size_t{200}));
  if (!path) return refuse("'" + shown + "': " + error, outcome);
  file_ = open_served_file(config_.serve_dir, *path, error);
  if (file_.get() < 0) return refuse("GET /" + *path + ": " + error, outcome);
  return true;
}

void ServiceStream::answer_perf() {
  PerfRequestParser::End end = perf_.fin();
  std::string stream = "stream " + std::to_string(id_) + ": ";
  if (end.error) emitter_.emit(WarningEvent{stream + "perf request ignored: " + *end.error});
  if (end.reply.where == PerfReply::Where::new_unidirectional_stream)
    emitter_.emit(WarningEvent{stream + "a perf request on a unidirectional stream (" +
                               std::to_string(end.reply.bytes) +
                               " bytes asked for) is not answered: quicc answers on "
                               "bidirectional streams only"});
  if (end.reply.where == PerfReply::Where::same_stream) to_generate_ = end.reply.bytes;
}

bool ServiceStream::step(Outcome& outcome) {
  busy_ = false;
  uint64_t moved = 0;
  bool serve = config_.service == Service::serve;
  for (;;) {
    // What is queued goes first; in blocking mode this waits until the stream has taken it.
    if (!pending_.empty()) {
      uint64_t written = 0;
      StreamWriter::Result flushed = pending_.flush(stream_, written);
      sent_ += written;
      moved += written;
      if (flushed == StreamWriter::Result::blocked) return true;
      if (flushed == StreamWriter::Result::failed) {
        // An unlimited perf response ends when the client has had enough: its STOP_SENDING
        // (the draft, 2.3.1) is the end it asked for, not a failure. OpenSSL answers a
        // STOP_SENDING by resetting our side itself, so the state reads RESET_LOCAL (as in
        // pipe_pump.cpp); the only other local reset of a service stream is the listener's
        // own at its end (clear_for_close), whose outcome is the interrupt's or deadline's.
        if (perf_.requested() == perf_unlimited && fin_received_ &&
            SSL_get_stream_write_state(stream_) == SSL_STREAM_STATE_RESET_LOCAL) {
          ERR_clear_error();
          served_ = true;
          return false;
        }
        stream_failure(stream_, false, emitter_, outcome);
        return false;
      }
    }
    if (bidi_ && !fin_sent_) {
      if (fill()) {
        if (moved < turn_budget) continue;
        busy_ = true;
        return true;
      }
      if (!read_error_.empty()) return refuse("reading the file: " + read_error_, outcome);
      bool all_sent = false;
      switch (config_.service) {
        case Service::serve: all_sent = answered_; break;
        case Service::source: all_sent = true; break;
        default: all_sent = fin_received_; break;  // echo, sink, perf: after the peer's FIN
      }
      if (all_sent && !conclude(outcome)) return false;
    }
    // Over: both directions ended. --serve reads on to the client's FIN after the request
    // line: freeing the stream earlier sends STOP_SENDING, and a client whose FIN was not yet
    // acknowledged then loses its stream (seen: quicc in pipe mode, "peer stopped reading the
    // stream", exit 10). A client that sends more than a request's worth after it is stopped.
    bool enough = serve && answered_ && received_ > 2 * max_request_size;
    if ((!bidi_ || fin_sent_) && (fin_received_ || enough)) {
      served_ = true;
      return false;
    }
    // Reading: only once nothing is left to send, so that a blocking read never holds up
    // what is to be sent.
    if (moved >= turn_budget) {
      busy_ = true;
      return true;
    }
    bool echoing = config_.service == Service::echo && bidi_;
    unsigned char* into = echoing ? pending_.space() : discard_.data();
    size_t room = echoing ? pending_.capacity() : discard_.size();
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(stream_, into, room, &n) == 1) {
      received_ += n;
      moved += n;
      if (echoing) pending_.filled(n);
      if (config_.service == Service::perf) perf_.feed(into, n);
      if (serve && bidi_ && !answered_) {
        request_.append(reinterpret_cast<const char*>(into), std::min(n, max_request_size + 1));
        if ((request_complete(request_, false) || request_.size() > max_request_size) &&
            !answer_request(outcome))
          return false;
      }
      continue;
    }
    switch (SSL_get_error(stream_, 0)) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE:
        return true;
      case SSL_ERROR_ZERO_RETURN:
        fin_received_ = true;
        emitter_.emit(StreamEvent{id_, StreamChange::fin_received, {}});
        if (config_.service == Service::sink)
          emitter_.emit(StreamReportEvent{
              id_, received_,
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_)});
        if (serve && bidi_ && !answered_ && !answer_request(outcome)) return false;
        if (config_.service == Service::perf) answer_perf();
        continue;
      default:
        stream_failure(stream_, true, emitter_, outcome);
        return false;
    }
  }
}

void ServiceTally::stream_over(const ServiceStream& stream, const Outcome& failure,
                               Emitter& emitter) {
  in_ += stream.received();
  out_ += stream.sent();
  if (failure.ok()) {
    if (!stream.served()) ++cut_;  // its connection ended first
    return;
  }
  emitter.emit(WarningEvent{failure.message});
  if (failure_.ok()) failure_ = failure;
}

void ServiceTally::stream_cut(const ServiceStream& stream) {
  in_ += stream.received();
  out_ += stream.sent();
  ++cut_;
}

void ServiceTally::idled_out(Emitter& emitter) {
  std::string text = "connection idle for --idle-timeout: closed";
  emitter.emit(WarningEvent{text});
  if (failure_.ok()) failure_ = {Status::idle_timeout, text};
}

void ServiceTally::no_request(Emitter& emitter, std::chrono::milliseconds idle) {
  std::string text = "no request for " + std::to_string(idle.count()) +
                     " ms (--idle-timeout): connection closed with code " +
                     hex_code(close_code_timeout);
  emitter.emit(WarningEvent{text});
  if (failure_.ok()) failure_ = {Status::idle_timeout, text};
}

Outcome ServiceTally::outcome(const Connection& conn) const {
  if (!failure_.ok()) return failure_;
  std::optional<CloseInfo> info = conn.close_info();
  if (!info) return {Status::internal, "the connection ended without a close"};
  Outcome closed = close_outcome(*info);
  if (!closed.ok()) return closed;
  if (cut_ > 0)
    return {Status::incomplete, std::to_string(cut_) + (cut_ == 1 ? " stream" : " streams") +
                                    " not served to the end: the connection closed first"};
  return {};
}

}  // namespace quicc
