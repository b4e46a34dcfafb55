#include "stream_pump.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "ending.hpp"
#include "session.hpp"

namespace quicc {

namespace {

// Per turn and direction; past it the loop turns again without waiting, so that timers and
// the other direction are served while a fast peer streams.
constexpr uint64_t turn_budget = 4 * pump_chunk;

}  // namespace

PipeEnd::PipeEnd(int fd) : fd_(fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return;
  if (S_ISREG(st.st_mode)) {
    never_blocks_ = true;
  } else if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0) {
      saved_flags_ = flags;
      never_blocks_ = true;
    }
  } else if (S_ISCHR(st.st_mode) && !isatty(fd)) {
    never_blocks_ = true;  // /dev/null, /dev/zero
  }
}

PipeEnd::~PipeEnd() {
  if (saved_flags_ >= 0) fcntl(fd_, F_SETFL, saved_flags_);
}

StreamWriter::Result StreamWriter::flush(SSL* stream, uint64_t& written) {
  while (offset_ < length_) {
    if (retrying_ && moving_) {
      // Move the pending bytes before retrying, as the mode allows.
      int other = 1 - current_;
      std::copy(buffers_[current_].begin() + static_cast<long>(offset_),
                buffers_[current_].begin() + static_cast<long>(length_), buffers_[other].begin());
      length_ -= offset_;
      offset_ = 0;
      current_ = other;
    }
    size_t n = 0;
    if (SSL_write_ex(stream, buffers_[current_].data() + offset_, length_ - offset_, &n) == 1) {
      retrying_ = false;
      written += n;
      offset_ += n;
      continue;  // a partial write took part: offer the rest (it returns WANT_WRITE when full)
    }
    int err = SSL_get_error(stream, 0);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
      retrying_ = true;
      return Result::blocked;
    }
    return Result::failed;
  }
  offset_ = length_ = 0;
  return Result::done;
}

PipePump::PipePump(SSL* conn, SSL* stream, const Config& config, Emitter& emitter)
    : conn_(conn),
      stream_(stream),
      input_(config.input_fd),
      output_(config.output_fd),
      emitter_(emitter),
      on_eof_(config.on_eof),
      eof_reset_code_(config.eof_reset_code),
      key_update_after_(config.key_update_after),
      to_stream_(config.moving_buffer) {
  out_buffer_.resize(pump_chunk);
}

bool PipePump::finished() const {
  bool output_flushed = out_length_ == out_offset_;
  switch (on_eof_) {
    case EofPolicy::fin: return fin_sent_ && fin_received_ && output_flushed;
    case EofPolicy::close: return fin_sent_ && output_flushed;
    case EofPolicy::reset: return reset_sent_ && output_flushed;
    case EofPolicy::ignore: return false;
  }
  return false;
}

bool PipePump::step(unsigned wake, Outcome& outcome) {
  busy_ = false;
  if (wake & wake_output) output_would_block_ = false;
  if (wake & wake_input) input_would_block_ = false;
  if (!stream_to_output(outcome) || !input_to_stream(wake, outcome)) return false;
  // QUIC allows a key update only once the handshake is confirmed: until OpenSSL accepts the
  // request, it is tried again every turn.
  if (key_update_after_ && total_out_ >= *key_update_after_ &&
      request_key_update(conn_, emitter_, total_out_))
    key_update_after_.reset();
  return true;
}

bool PipePump::stream_to_output(Outcome& outcome) {
  uint64_t moved = 0;
  while (!output_would_block_) {
    if (out_offset_ < out_length_) {
      ssize_t n = ::write(output_.fd(), out_buffer_.data() + out_offset_, out_length_ - out_offset_);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          output_would_block_ = true;
          break;
        }
        if (errno == EINTR) continue;
        if (errno == EPIPE) {
          outcome = {Status::output_closed, "output closed by its reader; stopped reading"};
          return false;
        }
        outcome = {Status::io_error, std::string("cannot write output: ") + std::strerror(errno)};
        return false;
      }
      out_offset_ += static_cast<size_t>(n);
      last_activity_ = Clock::now();
      continue;
    }
    if (fin_received_) break;
    if (moved >= turn_budget) {
      busy_ = true;
      break;
    }
    size_t n = 0;
    if (SSL_read_ex(stream_, out_buffer_.data(), out_buffer_.size(), &n) == 1) {
      out_offset_ = 0;
      out_length_ = n;
      moved += n;
      last_activity_ = Clock::now();
      total_in_ += n;
      turn_in_ += n;
      continue;
    }
    switch (SSL_get_error(stream_, 0)) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE:
        return true;
      case SSL_ERROR_ZERO_RETURN:
        fin_received_ = true;
        emitter_.emit(StreamEvent{SSL_get_stream_id(stream_), StreamChange::fin_received, {}});
        return true;
      default:
        outcome = describe_stream_failure(stream_, conn_, true, emitter_, total_in_, total_out_);
        return false;
    }
  }
  return true;
}

bool PipePump::input_to_stream(unsigned wake, Outcome& outcome) {
  uint64_t moved = 0;
  bool may_read = input_.never_blocks() || (wake & wake_input);
  for (;;) {
    switch (to_stream_.flush(stream_, moved)) {
      case StreamWriter::Result::blocked:
        total_out_ += moved;
        turn_out_ += moved;
        return true;  // the stream's send buffer is full: leave the input unread
      case StreamWriter::Result::failed:
        outcome = describe_stream_failure(stream_, conn_, false, emitter_, total_in_, total_out_);
        return false;
      case StreamWriter::Result::done:
        break;
    }
    if (input_eof_ || input_would_block_ || !may_read) break;
    if (moved >= turn_budget) {
      busy_ = true;
      break;
    }
    ssize_t n = ::read(input_.fd(), to_stream_.space(), to_stream_.capacity());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        input_would_block_ = true;
        break;
      }
      outcome = {Status::io_error, std::string("cannot read input: ") + std::strerror(errno)};
      return false;
    }
    if (n == 0) {
      input_eof_ = true;
      emitter_.emit(InputClosedEvent{});
      break;
    }
    to_stream_.filled(static_cast<size_t>(n));
    // A terminal would block on a second read; wait for poll() to say it is readable again.
    if (!input_.never_blocks()) may_read = false;
  }
  total_out_ += moved;
  turn_out_ += moved;
  if (moved > 0) last_activity_ = Clock::now();

  if (input_eof_ && to_stream_.empty()) return end_input(outcome);
  return true;
}

// Input EOF with every byte handed to the stream: apply the EOF policy, once.
bool PipePump::end_input(Outcome& outcome) {
  if (fin_sent_ || reset_sent_) return true;
  uint64_t id = SSL_get_stream_id(stream_);
  switch (on_eof_) {
    case EofPolicy::ignore:
      return true;
    case EofPolicy::reset: {
      SSL_STREAM_RESET_ARGS args{eof_reset_code_};
      if (SSL_stream_reset(stream_, &args, sizeof args) != 1) break;
      reset_sent_ = true;
      emitter_.emit(StreamEvent{id, StreamChange::reset_sent, eof_reset_code_});
      return true;
    }
    case EofPolicy::fin:
    case EofPolicy::close:
      // Closing with nothing sent: the peer never sees the stream (OpenSSL sends nothing for
      // a stream until it carries data or FIN), so `--on-eof close </dev/null` is a pure
      // handshake check, even against an HTTP/3 server.
      if (on_eof_ == EofPolicy::close && total_out_ == 0) {
        fin_sent_ = true;
        return true;
      }
      if (SSL_stream_conclude(stream_, 0) != 1) break;
      fin_sent_ = true;
      emitter_.emit(StreamEvent{id, StreamChange::fin_sent, {}});
      return true;
  }
  outcome = describe_stream_failure(stream_, conn_, false, emitter_, total_in_, total_out_);
  return false;
}

PipeInterest PipePump::interest() const {
  PipeInterest pi;
  if (!input_eof_ && to_stream_.empty() && (input_would_block_ || !input_.never_blocks()))
    pi.read_fd = input_.fd();
  if (output_would_block_) pi.write_fd = output_.fd();
  return pi;
}

uint64_t PipePump::take_turn_in() {
  uint64_t n = turn_in_;
  turn_in_ = 0;
  return n;
}

uint64_t PipePump::take_turn_out() {
  uint64_t n = turn_out_;
  turn_out_ = 0;
  return n;
}

}  // namespace quicc
