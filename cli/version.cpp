#include "version.hpp"

#include <openssl/crypto.h>
#include <openssl/opensslconf.h>

#include <fmt/format.h>

#ifndef QUICC_VERSION
#define QUICC_VERSION "0.0.0"
#endif

namespace quicc::cli {

std::string version_text() {
#ifdef OPENSSL_NO_QLOG
  const char* qlog = "no (OpenSSL built without qlog)";
#else
  const char* qlog = "yes (--qlog-dir, QLOGDIR)";
#endif
#ifdef OPENSSL_NO_SSLKEYLOG
  const char* keylog = "yes (--keylog; SSLKEYLOGFILE through quicc's key log callback)";
#else
  const char* keylog = "yes (--keylog; SSLKEYLOGFILE read by libssl itself)";
#endif
  return fmt::format("quicc {}\nOpenSSL {} (built against {})\nqlog: {}\nkeylog: {}\n"
                     "trace: yes (-vvv, SSL_trace)\n",
                     QUICC_VERSION, OpenSSL_version(OPENSSL_VERSION_STRING),
                     OPENSSL_FULL_VERSION_STR, qlog, keylog);
}

}  // namespace quicc::cli
