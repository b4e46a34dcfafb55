// TLS configuration of QUIC connections: trust, pinning, ALPN and certificates.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "events.hpp"
#include "status.hpp"

namespace quicc {

// An SSL_CTX plus the state its callbacks read. Not movable: OpenSSL keeps a pointer to it.
class TlsContext {
 public:
  TlsContext() = default;
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext();

  SSL_CTX* get() const { return ctx_; }

  // Resumption (client): the session to offer, loaded from config.session_in; null if none.
  SSL_SESSION* session_in() const { return session_in_; }

  // Whether the last verification failed because the leaf did not match --pin-sha256.
  bool pin_rejected() const { return pin_rejected_; }
  const std::string& pin_seen() const { return pin_seen_; }

  // A client's context (a failed verification then suggests what the user can do about it).
  bool client() const { return client_; }
  // The name a client checks the server's certificate against; empty with --pin-sha256 or
  // --insecure.
  const std::string& verified_host() const { return verified_host_; }
  // The certificate of the chain the last failed verification stopped at (depth 0: the
  // server's own), when it failed for a reason other than --pin-sha256.
  struct VerifyFailure {
    int depth = 0;
    std::string subject;
  };
  const VerifyFailure& verify_failure() const { return verify_failure_; }
  // Session tickets received so far (a client's, on any of its connections).
  unsigned tickets_received() const { return tickets_; }

  // Client: verification, ALPN offer and optional client certificate. `emitter` (optional)
  // hears of session tickets that cannot be written to --session-out.
  static std::unique_ptr<TlsContext> for_client(const Config& config, Outcome& outcome,
                                                Emitter* emitter = nullptr);
  // Listener: certificate (loaded, or generated and described in `cert`) and ALPN selection.
  // `emitter` (optional) hears of ALPN mismatches, which only the selection callback sees.
  static std::unique_ptr<TlsContext> for_listener(const Config& config, Outcome& outcome,
                                                  CertificateEvent& cert, Emitter* emitter);

 private:
  static int verify_callback(int preverify_ok, X509_STORE_CTX* store);
  static int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_len,
                         const unsigned char* in, unsigned int in_len, void* arg);
  static void keylog_callback(const SSL* ssl, const char* line);
  static int new_session_callback(SSL* ssl, SSL_SESSION* session);
  // Ciphersuites, groups, key log: the parts both roles share.
  bool configure_common(const Config& config, Outcome& outcome);
  bool load_trust(const Config& config, Outcome& outcome);
  bool load_certificate(const Config& config, Outcome& outcome);

  SSL_CTX* ctx_ = nullptr;
  Emitter* emitter_ = nullptr;
  std::FILE* keylog_ = nullptr;
  std::string session_out_;
  std::atomic<unsigned> tickets_{0};  // OpenSSL's assist thread may take them (blocking driver)
  bool client_ = false;
  std::string verified_host_;
  VerifyFailure verify_failure_;  // written by the handshake's thread, read by it (describe)
  SSL_SESSION* session_in_ = nullptr;
  std::vector<unsigned char> alpn_wire_;
  std::string pin_;  // lowercase hex, no colons
  bool pin_rejected_ = false;
  std::string pin_seen_;
};

// Wire format of an ALPN list: each protocol prefixed by its length.
std::vector<unsigned char> alpn_wire_format(const std::vector<std::string>& protocols);

// "AB:CD:..." SHA-256 fingerprint of a certificate.
std::string sha256_fingerprint(X509* cert);

// The most specific reason on OpenSSL's error queue, for one-line messages ("no start line
// (Expecting: TRUSTED CERTIFICATE)", "No such file or directory"), and clears the queue.
// `system_error`, when given, receives the first errno the queue carried (0: none).
std::string openssl_error_text(int* system_error = nullptr);

// Applies config.ciphersuites and config.groups to a throwaway QUIC context, so that a bad
// list is a usage error before any network activity. Leaves OpenSSL's error queue empty.
Outcome check_tls_lists(const Config& config);

}  // namespace quicc
