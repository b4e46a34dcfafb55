// Moves bytes between the local pipe ends (stdin/stdout) and one QUIC stream without ever
// blocking, for the non-blocking driver. Backpressure is by omission: input is not read while
// the previous chunk still waits for room in the stream's send buffer, and the stream is not
// read while the previous chunk still waits for the output to take it.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <vector>

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

// Bytes queued for a stream. OpenSSL's all-or-nothing writes must be retried with the same
// buffer and length until they succeed, so the chunk stays put until it is taken whole.
class StreamWriter {
 public:
  StreamWriter() { buffer_.resize(pump_chunk); }
  bool empty() const { return length_ == 0; }
  unsigned char* space() { return buffer_.data(); }
  size_t capacity() const { return buffer_.size(); }
  void filled(size_t n) { length_ = n; }

  enum class Result { done, blocked, failed };
  // Tries to hand the queued chunk to the stream; `written` counts the bytes taken.
  Result flush(SSL* stream, uint64_t& written);

 private:
  std::vector<unsigned char> buffer_;
  size_t length_ = 0;
};

class PipePump {
 public:
  PipePump(SSL* conn, SSL* stream, int input_fd, int output_fd, Emitter& emitter);

  // Moves what can move now. `wake` is the WakeReason set of this turn. False: see outcome.
  bool step(unsigned wake, Outcome& outcome);

  PipeInterest interest() const;
  // Work is left that needs no waiting (a turn's budget ran out).
  bool busy() const { return busy_; }
  bool finished() const { return fin_sent_ && fin_received_ && out_length_ == out_offset_; }

  // Bytes moved since the last call, for the tick event.
  uint64_t take_turn_in();
  uint64_t take_turn_out();
  uint64_t total_in() const { return total_in_; }
  uint64_t total_out() const { return total_out_; }

 private:
  bool stream_to_output(Outcome& outcome);
  bool input_to_stream(unsigned wake, Outcome& outcome);

  SSL* conn_;
  SSL* stream_;
  PipeEnd input_;
  PipeEnd output_;
  Emitter& emitter_;

  StreamWriter to_stream_;
  std::vector<unsigned char> out_buffer_;
  size_t out_offset_ = 0;
  size_t out_length_ = 0;

  bool input_eof_ = false;
  bool input_would_block_ = false;
  bool output_would_block_ = false;
  bool fin_sent_ = false;
  bool fin_received_ = false;
  bool busy_ = false;

  uint64_t total_in_ = 0, total_out_ = 0;
  uint64_t turn_in_ = 0, turn_out_ = 0;
};

}  // namespace quicc
