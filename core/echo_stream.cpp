#include "echo_stream.hpp"

#include "ending.hpp"

namespace quicc {

namespace {

// The connection ended under the stream: the connection's own close is reported once, by its
// owner, not by each of its streams.
bool connection_gone(SSL* stream, bool reading) {
  int state = reading ? SSL_get_stream_read_state(stream) : SSL_get_stream_write_state(stream);
  return state == SSL_STREAM_STATE_CONN_CLOSED;
}

}  // namespace

bool EchoStream::step(Outcome& outcome) {
  busy_ = false;
  uint64_t moved = 0;
  uint64_t id = SSL_get_stream_id(stream_);
  SSL* conn = SSL_get0_connection(stream_);
  for (;;) {
    uint64_t before = moved;
    StreamWriter::Result flushed = pending_.flush(stream_, moved);
    echoed_ += moved - before;
    switch (flushed) {
      case StreamWriter::Result::blocked:
        return true;
      case StreamWriter::Result::failed:
        outcome = connection_gone(stream_, false)
                      ? Outcome{Status::peer_app_error, "connection closed"}
                      : describe_stream_failure(stream_, conn, false, emitter_, 0, moved);
        return false;
      case StreamWriter::Result::done:
        break;
    }
    if (fin_received_) {
      if (!fin_sent_) {
        if (SSL_stream_conclude(stream_, 0) != 1) {
          outcome = describe_stream_failure(stream_, conn, false, emitter_, 0, moved);
          return false;
        }
        fin_sent_ = true;
        emitter_.emit(StreamEvent{id, StreamChange::fin_sent, {}});
      }
      return true;
    }
    if (moved >= 4 * pump_chunk) {
      busy_ = true;
      return true;
    }
    size_t n = 0;
    if (SSL_read_ex(stream_, pending_.space(), pending_.capacity(), &n) == 1) {
      pending_.filled(n);
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
        outcome = connection_gone(stream_, true)
                      ? Outcome{Status::peer_app_error, "connection closed"}
                      : describe_stream_failure(stream_, conn, true, emitter_, 0, moved);
        return false;
    }
  }
}

}  // namespace quicc
