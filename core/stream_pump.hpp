// Moves bytes between the local pipe ends (stdin/stdout) and one QUIC stream without ever
// blocking, for the non-blocking driver. Backpressure is by omission: input is not read while
// the previous chunk still waits for room in the stream's send buffer, and the stream is not
// read while the previous chunk still waits for the output to take it.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "config.hpp"
#include "event_loop.hpp"
#include "events.hpp"
#include "status.hpp"

namespace quicc {

// Chunk sizes: large enough that few ticks move a lot (OpenSSL's own demo client is 6x slower
// with 160-byte reads), small enough to keep a turn short.
inline constexpr size_t pump_chunk = 256 * 1024;

// One end of the local pipe. Pipes and sockets are switched to O_NONBLOCK for the pump's
// lifetime (and restored); terminals stay blocking and are read only after poll() says so.
class PipeEnd {
 public:
  explicit PipeEnd(int fd);
  ~PipeEnd();
  PipeEnd(const PipeEnd&) = delete;
  PipeEnd& operator=(const PipeEnd&) = delete;

  int fd() const { return fd_; }
  // Reading or writing never blocks (non-blocking pipe or socket, regular file).
  bool never_blocks() const { return never_blocks_; }

 private:
  int fd_;
  int saved_flags_ = -1;
  bool never_blocks_ = false;
};

// Bytes queued for a stream, written by OpenSSL's rules for the stream's write mode:
// - all-or-nothing (default): a write that could not finish is retried with the same buffer
//   and length until it succeeds;
// - with SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER the retry may come from another address, and it
//   does: each retry copies the pending bytes to the other half of a double buffer, so the
//   mode is exercised, not merely set;
// - with SSL_MODE_ENABLE_PARTIAL_WRITE a write may take part of the chunk; the rest waits.
class StreamWriter {
 public:
  explicit StreamWriter(bool moving = false) : moving_(moving) {
    buffers_[0].resize(pump_chunk);
    if (moving_) buffers_[1].resize(pump_chunk);
  }
  bool empty() const { return offset_ == length_; }
  unsigned char* space() { return buffers_[current_].data(); }
  size_t capacity() const { return pump_chunk; }
  void filled(size_t n) {
    offset_ = 0;
    length_ = n;
  }

  enum class Result { done, blocked, failed };
  // Tries to hand the queued bytes to the stream; `written` counts the bytes taken.
  Result flush(SSL* stream, uint64_t& written);

 private:
  bool moving_;
  std::vector<unsigned char> buffers_[2];
  int current_ = 0;
  size_t offset_ = 0;
  size_t length_ = 0;
  bool retrying_ = false;
};

class PipePump {
 public:
  PipePump(SSL* conn, SSL* stream, const Config& config, Emitter& emitter);

  // Moves what can move now. `wake` is the WakeReason set of this turn. False: see outcome.
  bool step(unsigned wake, Outcome& outcome);

  PipeInterest interest() const;
  // Work is left that needs no waiting (a turn's budget ran out).
  bool busy() const { return busy_; }
  // The transfer is over as the EOF policy defines it (ignore: only the peer can end it).
  bool finished() const;
  // No input is waiting to be sent (the last chunk read was handed to the stream).
  bool idle_input() const { return to_stream_.empty(); }
  // When data last moved in either direction (for --idle-exit).
  Clock::time_point last_activity() const { return last_activity_; }

  // Bytes moved since the last call, for the tick event.
  uint64_t take_turn_in();
  uint64_t take_turn_out();
  uint64_t total_in() const { return total_in_; }
  uint64_t total_out() const { return total_out_; }

 private:
  bool stream_to_output(Outcome& outcome);
  bool input_to_stream(unsigned wake, Outcome& outcome);
  bool end_input(Outcome& outcome);

  SSL* conn_;
  SSL* stream_;
  PipeEnd input_;
  PipeEnd output_;
  Emitter& emitter_;
  EofPolicy on_eof_;
  uint64_t eof_reset_code_;
  std::optional<uint64_t> key_update_after_;  // reset once the update is requested

  StreamWriter to_stream_;
  std::vector<unsigned char> out_buffer_;
  size_t out_offset_ = 0;
  size_t out_length_ = 0;

  bool input_eof_ = false;
  bool input_would_block_ = false;
  bool output_would_block_ = false;
  bool fin_sent_ = false;
  bool reset_sent_ = false;
  bool fin_received_ = false;
  bool busy_ = false;
  Clock::time_point last_activity_ = Clock::now();

  uint64_t total_in_ = 0, total_out_ = 0;
  uint64_t turn_in_ = 0, turn_out_ = 0;
};

}  // namespace quicc
