#include "echo_stream.hpp"

#include <openssl/err.h>

#include <cstdio>

namespace quicc {

namespace {

// Per turn; past it the service turns again without waiting, so other streams get their turn.
constexpr uint64_t turn_budget = 4 * chunk_size;

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Why a stream operation failed, unless it is the connection's end (reported once, by the
// connection's owner, not by each of its streams).
bool stream_failure(SSL* stream, bool reading, Emitter& emitter, Outcome& outcome) {
  int state = reading ? SSL_get_stream_read_state(stream) : SSL_get_stream_write_state(stream);
  uint64_t code = 0;
  uint64_t id = SSL_get_stream_id(stream);
  ERR_clear_error();
  switch (state) {
    case SSL_STREAM_STATE_CONN_CLOSED:
      return false;
    case SSL_STREAM_STATE_RESET_REMOTE:
    case SSL_STREAM_STATE_RESET_LOCAL:
      if (reading) SSL_get_stream_read_error_code(stream, &code);
      else SSL_get_stream_write_error_code(stream, &code);
      emitter.emit(StreamEvent{id, StreamChange::reset_received, code});
      outcome = {Status::stream_reset,
                 "stream " + std::to_string(id) +
                     (reading ? ": peer reset it (code " : ": peer stopped reading it (code ") +
                     hex(code) + ")"};
      return true;
    default:
      outcome = {Status::io_error, "stream " + std::to_string(id) + ": echo failed"};
      return true;
  }
}

}  // namespace

EchoStream::EchoStream(SSL* stream, const Config& config, Emitter& emitter)
    : stream_(stream),
      emitter_(emitter),
      bidi_(stream_is_bidi(stream)),
      pending_(config.moving_buffer) {
  if (bidi_) apply_write_mode(stream, config);
}

bool EchoStream::step(Outcome& outcome) {
  busy_ = false;
  uint64_t moved = 0;
  uint64_t id = SSL_get_stream_id(stream_);
  for (;;) {
    uint64_t written = 0;
    StreamWriter::Result flushed = pending_.flush(stream_, written);
    echoed_ += written;
    moved += written;
    if (flushed == StreamWriter::Result::blocked) return true;
    if (flushed == StreamWriter::Result::failed) {
      stream_failure(stream_, false, emitter_, outcome);
      return false;
    }
    if (fin_received_) {
      if (bidi_) {
        if (SSL_stream_conclude(stream_, 0) == 1)
          emitter_.emit(StreamEvent{id, StreamChange::fin_sent, {}});
        else
          stream_failure(stream_, false, emitter_, outcome);
      }
      return false;
    }
    if (moved >= turn_budget) {
      busy_ = true;
      return true;
    }
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(stream_, pending_.space(), pending_.capacity(), &n) == 1) {
      if (bidi_) pending_.filled(n);
      else moved += n;  // nowhere to echo a unidirectional stream to
      continue;
    }
    switch (SSL_get_error(stream_, 0)) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE:
        return true;
      case SSL_ERROR_ZERO_RETURN:
        fin_received_ = true;
        emitter_.emit(StreamEvent{id, StreamChange::fin_received, {}});
        continue;
      default:
        stream_failure(stream_, true, emitter_, outcome);
        return false;
    }
  }
}

}  // namespace quicc
