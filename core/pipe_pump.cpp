#include "pipe_pump.hpp"

#include <openssl/err.h>

#include "tls.hpp"

namespace quicc {

namespace {

// Per turn and direction; past it the loop turns again without waiting, so that timers and
// the other direction are served while a fast peer streams.
constexpr uint64_t turn_budget = 4 * chunk_size;

}  // namespace

PipePump::PipePump(Connection& conn, const Config& config)
    : conn_(conn),
      config_(config),
      emitter_(conn.emitter()),
      input_(config.input_fd, config.send),
      output_(config.output_fd),
      expect_(config.expect),
      stop_at_match_(!config.expect.empty() && !config.expect_close),
      extra_rules_(config.peer_streams, config.peer_stream_reject_code),
      to_stream_(config.moving_buffer),
      input_waits_(!input_.always_ready()) {
  if (config.crlf) input_.send_crlf();
  out_buffer_.resize(chunk_size);
  extra_buffer_.resize(16 * 1024);
  facts_.last_activity = Clock::now();
}

void PipePump::accept_streams() {
  for (SSL* s : conn_.accept_streams()) {
    // A unidirectional stream (e.g. HTTP/3 control) is never part of the pipe.
    switch (stream_is_bidi(s) ? streams_.peer_opened(s) : PipeStreams::Use::extra) {
      case PipeStreams::Use::pipe:
        apply_write_mode(s, config_);
        facts_.stream_open = true;
        break;
      case PipeStreams::Use::receive_only: {
        // Crossed streams: our data goes on our own stream; tell the peer this half of its
        // stream carries nothing.
        SSL_STREAM_RESET_ARGS args{stream_code_crossed};
        if (SSL_stream_reset(s, &args, sizeof args) == 1)
          emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::reset_sent, stream_code_crossed});
        ERR_clear_error();
        break;
      }
      case PipeStreams::Use::extra:
        if (start_extra_stream(conn_, s, extra_rules_))
          extras_.push_back({s, std::make_unique<ExtraStreamReader>(SSL_get_stream_id(s),
                                                                    config_.output_dir, emitter_)});
        break;
    }
  }
}

void PipePump::watch_own(SSL* s) {
  extras_.push_back(
      {s, std::make_unique<ExtraStreamReader>(SSL_get_stream_id(s), config_.output_dir, emitter_), true});
}

SSL* PipePump::send_stream() {
  if (SSL* s = streams_.send()) return s;
  std::string error;
  SSL* s = conn_.open_stream(false, error);
  if (!s) {
    // A connection that is closing refuses new streams: its end is reported by its owner.
    if (!error.empty() && !conn_.closed()) facts_.local_error = Outcome{Status::internal, error};
    return nullptr;  // at the peer's stream limit: MAX_STREAMS will wake the loop
  }
  apply_write_mode(s, config_);
  streams_.opened(s);
  facts_.stream_open = true;
  return s;
}

bool PipePump::pump(const Step& step, unsigned wake) {
  busy_ = false;
  if (wake & wake_input) input_waits_ = false;
  if (wake & wake_output) output_waits_ = false;
  bool changed = receive(step);
  changed = read_extras() || changed;
  changed = send(step) || changed;
  changed = finish_sending() || changed;
  return changed;
}

bool PipePump::receive(const Step& step) {
  bool changed = false;
  uint64_t moved = 0;
  for (;;) {
    // The output first: the stream is read only once the last chunk is out.
    while (out_offset_ < out_length_) {
      if (output_waits_ || facts_.output_closed || facts_.local_error) return changed;
      size_t n = 0;
      std::string error;
      switch (output_.write(out_buffer_.data() + out_offset_, out_length_ - out_offset_, n, error)) {
        case LocalOutput::Result::written:
          out_offset_ += n;
          facts_.written += n;
          facts_.last_activity = Clock::now();
          changed = true;
          // A pipe or terminal takes one write per poll(): the next may not fit.
          if (!output_.always_ready() && output_.kind() != EndKind::socket) output_waits_ = true;
          break;
        case LocalOutput::Result::not_ready:
          output_waits_ = true;
          break;
        case LocalOutput::Result::closed:
          facts_.output_closed = true;
          return true;
        case LocalOutput::Result::failed:
          facts_.local_error = Outcome{Status::io_error, "cannot write output: " + error};
          return true;
      }
    }
    SSL* s = streams_.receive();
    // A match of every --expect pattern stops reading at once (the step came before it).
    if (!step.read_stream || !s || facts_.read_ended ||
        (stop_at_match_ && match_ends_reading(facts_)))
      return changed;
    if (moved >= turn_budget) {
      busy_ = true;
      return changed;
    }
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(s, out_buffer_.data(), out_buffer_.size(), &n) == 1) {
      if (s == streams_.own()) streams_.heard_on_own();
      out_offset_ = 0;
      out_length_ = n;
      moved += n;
      if (facts_.received == 0) emitter_.emit(FirstByteEvent{SSL_get_stream_id(s)});
      facts_.received += n;
      if (expect_.feed(out_buffer_.data(), n)) facts_.expect_met = true;
      turn_in_ += n;
      facts_.last_activity = Clock::now();
      changed = true;
      continue;
    }
    switch (SSL_get_error(s, 0)) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE:
        return changed;
      case SSL_ERROR_ZERO_RETURN:
        if (s == streams_.own()) streams_.heard_on_own();
        expect_.data_ended();
        facts_.peer_fin_after_ours = facts_.fin_sent;
        facts_.fin_received = true;
        facts_.read_ended = true;
        emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::fin_received, {}});
        return true;
      default:
        read_failed(s);
        return true;
    }
  }
}

bool PipePump::read_extras() {
  bool changed = false;
  for (auto it = extras_.begin(); it != extras_.end();) {
    uint64_t moved = 0;
    bool done = false;
    while (!done && moved < turn_budget) {
      size_t n = 0;
      ERR_clear_error();
      if (SSL_read_ex(it->stream, extra_buffer_.data(), extra_buffer_.size(), &n) == 1) {
        moved += n;
        changed = true;
        if (!it->reader->data(extra_buffer_.data(), n)) {
          conn_.forget_stream(it->stream);  // the file failed: STOP_SENDING
          done = true;
        }
        continue;
      }
      int error = SSL_get_error(it->stream, 0);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
      finish_extra_stream(conn_, it->stream, *it->reader, error == SSL_ERROR_ZERO_RETURN, !it->ours);
      changed = done = true;
    }
    if (moved >= turn_budget) busy_ = true;
    it = done ? extras_.erase(it) : it + 1;
  }
  ERR_clear_error();
  return changed;
}

void PipePump::read_failed(SSL* s) {
  uint64_t code = 0;
  switch (SSL_get_stream_read_state(s)) {
    case SSL_STREAM_STATE_RESET_REMOTE:
      SSL_get_stream_read_error_code(s, &code);
      emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::reset_received, code});
      if (s == streams_.own() && code == stream_code_crossed && !streams_.crossed()) {
        // The peer opened its own stream at the same time as we did: its data comes there.
        streams_.own_receive_moved();
      } else {
        facts_.reset_received = code;
        facts_.read_ended = true;
      }
      break;
    case SSL_STREAM_STATE_CONN_CLOSED:
      // A reset that came with the close shows only in the error's reason, its code only on
      // the wire.
      if (read_failed_by_reset() && s == streams_.receive()) {
        std::optional<uint64_t> code = conn_.peer_reset_code(s);
        emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::reset_received, code});
        if (s == streams_.own() && code == stream_code_crossed && !streams_.crossed()) {
          // Crossed streams, and the peer closed right after: its data is on its own stream.
          streams_.own_receive_moved();
          break;
        }
        facts_.reset_received = code.value_or(stream_code_unknown);
      }
      facts_.read_ended = true;  // the connection's end is reported by its owner
      break;
    case SSL_STREAM_STATE_RESET_LOCAL:
      facts_.read_ended = true;
      break;
    default:
      facts_.read_ended = true;
      facts_.local_error = Outcome{Status::io_error, "stream read failed: " + openssl_error_text()};
  }
  ERR_clear_error();
}

void PipePump::write_failed(SSL* s) {
  uint64_t code = 0;
  switch (SSL_get_stream_write_state(s)) {
    case SSL_STREAM_STATE_RESET_LOCAL:
      // Our sending side was reset without us asking: OpenSSL does that when the peer sends
      // STOP_SENDING, with the peer's code.
      SSL_get_stream_write_error_code(s, &code);
      if (!facts_.stopped)
        emitter_.emit(StreamEvent{SSL_get_stream_id(s), StreamChange::reset_received, code});
      facts_.stopped = code;
      break;
    case SSL_STREAM_STATE_CONN_CLOSED:
      break;  // the connection's end is reported by its owner
    default:
      facts_.local_error = Outcome{Status::io_error, "stream write failed: " + openssl_error_text()};
  }
  ERR_clear_error();
}

bool PipePump::send(const Step& step) {
  bool changed = false;
  uint64_t moved = 0;
  for (;;) {
    if (!to_stream_.empty()) {
      if (facts_.stopped || facts_.reset_sent) return changed;
      SSL* s = send_stream();
      if (!s) return changed;
      uint64_t written = 0;
      StreamWriter::Result r = to_stream_.flush(s, written);
      moved += written;
      facts_.sent += written;
      turn_out_ += written;
      if (written > 0) {
        facts_.last_activity = Clock::now();
        changed = true;
      }
      if (r == StreamWriter::Result::blocked) return changed;  // wait for room in the stream
      if (r == StreamWriter::Result::failed) {
        write_failed(s);
        return true;
      }
    }
    if (!step.read_input || facts_.input_eof || input_waits_ || facts_.local_error) return changed;
    if (moved >= turn_budget) {
      busy_ = true;
      return changed;
    }
    size_t n = 0;
    std::string error;
    switch (input_.read(to_stream_.space(), to_stream_.capacity(), n, error)) {
      case LocalInput::Result::data:
        to_stream_.filled(n);
        facts_.input_read += n;
        changed = true;
        // A pipe or terminal would block on a second read: poll() first.
        if (!input_.always_ready() && input_.kind() != EndKind::socket) input_waits_ = true;
        break;
      case LocalInput::Result::not_ready:
        input_waits_ = true;
        break;
      case LocalInput::Result::eof:
        facts_.input_eof = true;
        emitter_.emit(InputClosedEvent{});
        return true;
      case LocalInput::Result::failed:
        facts_.local_error = Outcome{Status::io_error, "cannot read input: " + error};
        return true;
    }
  }
}

bool PipePump::finish_sending() {
  if ((!fin_pending_ && !reset_pending_) || !to_stream_.empty()) return false;
  SSL* s = send_stream();
  if (!s) return false;
  uint64_t id = SSL_get_stream_id(s);
  ERR_clear_error();
  if (fin_pending_) {
    fin_pending_ = false;
    if (SSL_stream_conclude(s, 0) == 1) {
      facts_.fin_sent = true;
      emitter_.emit(StreamEvent{id, StreamChange::fin_sent, {}});
    } else {
      write_failed(s);
    }
  }
  if (reset_pending_) {
    SSL_STREAM_RESET_ARGS args{*reset_pending_};
    if (SSL_stream_reset(s, &args, sizeof args) == 1) {
      facts_.reset_sent = true;
      emitter_.emit(StreamEvent{id, StreamChange::reset_sent, *reset_pending_});
    } else {
      write_failed(s);
    }
    reset_pending_.reset();
  }
  ERR_clear_error();
  return true;
}

bool PipePump::apply(const Step& step, TransferPolicy& policy) {
  if (step.send_fin) fin_pending_ = true;
  if (step.reset_stream) reset_pending_ = *step.reset_stream;
  if (step.reset_stream && !to_stream_.empty()) to_stream_.filled(0);  // a reset drops it
  bool changed = finish_sending();
  if (step.stop_reading) {
    // Freeing the stream sends STOP_SENDING for its receiving side (OpenSSL has no call for
    // it; its code is 0).
    SSL* r = streams_.receive() ? streams_.receive() : streams_.send();
    if (r) {
      streams_.forget(r);
      conn_.forget_stream(r);
    }
    facts_.read_ended = true;
    changed = true;
  }
  if (step.key_update && conn_.request_key_update(facts_.sent)) {
    policy.key_update_requested();
    changed = true;
  }
  return changed;
}

const PipeFacts& PipePump::facts() {
  facts_.peer_acked = conn_.peer_acked();
  facts_.peer_data_at = conn_.last_peer_data_in();
  facts_.loss_seen = conn_.loss_seen();
  facts_.peer_resend_gap = conn_.peer_resend_gap();
  facts_.reset_left = facts_.reset_sent && conn_.reset_frame_sent();
  facts_.receive_moved = streams_.awaiting_peer_stream();
  facts_.handshake_confirmed = conn_.handshake_confirmed();
  facts_.key_update_safe = conn_.key_update_safe();
  if (SSL* s = streams_.send()) {
    // OpenSSL keeps the send buffer, and so this count, after the connection has ended; it
    // frees it (and the count reads 0) once every byte and the FIN are acknowledged.
    uint64_t used = 0;
    if (SSL_get_stream_write_buf_used(s, &used) == 1) facts_.unacked = used;
    ERR_clear_error();
  }
  return facts_;
}

PipeInterest PipePump::interest(const Step& step) const {
  PipeInterest pi;
  if (step.read_input && !facts_.input_eof && to_stream_.empty() && input_waits_)
    pi.read_fd = input_.fd();
  if (out_offset_ < out_length_ && output_waits_) pi.write_fd = output_.fd();
  return pi;
}

}  // namespace quicc
