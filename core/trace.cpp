#include "trace.hpp"

#include <openssl/bio.h>

#include <cstdlib>
#include <string>

namespace quicc {

namespace {

void message_callback(int write_p, int version, int content_type, const void* buf, size_t len,
                      SSL* ssl, void* arg) {
  auto* emitter = static_cast<Emitter*>(arg);
  BIO* mem = BIO_new(BIO_s_mem());
  if (!mem) return;
  SSL_trace(write_p, version, content_type, buf, len, ssl, mem);
  char* data = nullptr;
  long size = BIO_get_mem_data(mem, &data);
  if (size > 0) {
    std::string text(data, static_cast<size_t>(size));
    while (!text.empty() && text.back() == '\n') text.pop_back();
    // SSL_trace does not print a 1-RTT packet's key phase, which is what shows a key update
    // on the wire. The callback sees the header without header protection, so the bit is
    // there: short header (first bit 0), key phase = bit 0x04 (RFC 9000, 17.3.1).
    const auto* bytes = static_cast<const unsigned char*>(buf);
    if (content_type == SSL3_RT_QUIC_PACKET && len > 0 && !(bytes[0] & 0x80))
      text += "\n  Key Phase: " + std::to_string((bytes[0] >> 2) & 1);
    if (!text.empty()) emitter->emit(TraceEvent{write_p != 0, std::move(text)});
  }
  BIO_free(mem);
}

}  // namespace

void enable_trace(SSL_CTX* ctx, Emitter& emitter) {
  SSL_CTX_set_msg_callback(ctx, message_callback);
  SSL_CTX_set_msg_callback_arg(ctx, &emitter);
}

void enable_qlog(const std::string& dir) {
  if (!dir.empty()) ::setenv("QLOGDIR", dir.c_str(), 1);
}

}  // namespace quicc
