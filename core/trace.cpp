#include "trace.hpp"

#include <openssl/bio.h>

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
    if (!text.empty()) emitter->emit(TraceEvent{write_p != 0, std::move(text)});
  }
  BIO_free(mem);
}

}  // namespace

void enable_trace(SSL_CTX* ctx, Emitter& emitter) {
  SSL_CTX_set_msg_callback(ctx, message_callback);
  SSL_CTX_set_msg_callback_arg(ctx, &emitter);
}

}  // namespace quicc
