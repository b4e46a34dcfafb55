// Bytes queued for a stream, written by OpenSSL's rules for the stream's write mode:
// - all-or-nothing (default): a write that could not finish is retried with the same buffer
//   and length until it succeeds;
// - with SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER the retry may come from another address, and it
//   does: each retry copies the pending bytes to the other half of a double buffer, so the
//   mode is exercised, not merely set;
// - with SSL_MODE_ENABLE_PARTIAL_WRITE a write may take part of the chunk; the rest waits.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <vector>

#include "config.hpp"

namespace quicc {

// Chunk sizes: large enough that few turns move a lot (OpenSSL's own demo client is 6x slower
// with 160-byte reads), small enough to keep a turn short.
inline constexpr size_t chunk_size = 256 * 1024;

// True for a bidirectional stream. Read from the stream ID (bit 0x2 marks unidirectional
// ones, RFC 9000 2.1): SSL_get_stream_type() reads OpenSSL's stream record without its lock,
// racing with the thread that handles the stream's frames (seen by ThreadSanitizer).
inline bool stream_is_bidi(SSL* stream) { return (SSL_get_stream_id(stream) & 0x2) == 0; }

class StreamWriter {
 public:
  explicit StreamWriter(bool moving = false);

  bool empty() const { return offset_ == length_; }
  size_t pending() const { return length_ - offset_; }
  unsigned char* space() { return buffers_[current_].data(); }
  size_t capacity() const { return chunk_size; }
  void filled(size_t n) {
    offset_ = 0;
    length_ = n;
  }

  enum class Result { done, blocked, failed };
  // Hands the queued bytes to the stream as far as it takes them; `written` counts them.
  Result flush(SSL* stream, uint64_t& written);

 private:
  bool moving_;
  std::vector<unsigned char> buffers_[2];
  int current_ = 0;
  size_t offset_ = 0;
  size_t length_ = 0;
  bool retrying_ = false;
};

// After a stream read failed: whether the failure was a reset by the peer, even when the
// connection is closed too and the stream's state says only that (its reason is still
// SSL_R_STREAM_RESET on the error queue). Call before clearing the queue.
bool read_failed_by_reset();

// Sets the stream's write mode from config (all-or-nothing unless --partial-write).
void apply_write_mode(SSL* stream, const Config& config);

}  // namespace quicc
