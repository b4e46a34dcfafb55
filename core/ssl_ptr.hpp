// Ownership of OpenSSL's SSL objects (connections, streams, listeners).
#pragma once

#include <openssl/ssl.h>

#include <memory>

namespace quicc {

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

}  // namespace quicc
