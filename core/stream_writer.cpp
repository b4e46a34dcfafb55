#include "stream_writer.hpp"

#include <openssl/err.h>

#include <algorithm>

namespace quicc {

StreamWriter::StreamWriter(bool moving) : moving_(moving) {
  buffers_[0].resize(chunk_size);
  if (moving_) buffers_[1].resize(chunk_size);
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
    ERR_clear_error();
    if (SSL_write_ex(stream, buffers_[current_].data() + offset_, length_ - offset_, &n) == 1) {
      retrying_ = false;
      written += n;
      offset_ += n;
      continue;  // a partial write took part: offer the rest (it says WANT_WRITE when full)
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

bool read_failed_by_reset() {
  // OpenSSL raises SSL_R_STREAM_RESET for a read of a reset stream, whatever else holds.
  return ERR_GET_REASON(ERR_peek_error()) == SSL_R_STREAM_RESET ||
         ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_STREAM_RESET;
}

void apply_write_mode(SSL* stream, const Config& config) {
  const long partial = SSL_MODE_ENABLE_PARTIAL_WRITE, moving = SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
  if (config.partial_write) SSL_set_mode(stream, partial); else SSL_clear_mode(stream, partial);
  if (config.moving_buffer) SSL_set_mode(stream, moving); else SSL_clear_mode(stream, moving);
}

}  // namespace quicc
