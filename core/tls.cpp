#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>

namespace quicc {

namespace {

std::string hex_lower_no_colons(const std::string& fingerprint) {
  std::string out;
  for (char c : fingerprint)
    if (c != ':') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int ctx_data_index() {
  static int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool add_san(X509* cert, const std::string& value) {
  X509V3_CTX v3{};
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, value.c_str());
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A self-signed P-256 certificate valid for a day, naming localhost and the loopback addresses
// (and the listen host when it is a name), so that pinning works without a CA.
bool generate_ephemeral(SSL_CTX* ctx, const Config& config, std::string& fingerprint) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  bool ok = key && cert;
  unsigned char serial[16];
  ok = ok && RAND_bytes(serial, sizeof serial) == 1;
  if (ok) {
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    BN_free(bn);
  }
  ok = ok && X509_set_version(cert, 2) && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
       X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600) && X509_set_pubkey(cert, key);
  if (ok) {
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("quicc ephemeral"), -1, -1,
                               0);
    ok = X509_set_issuer_name(cert, name);
  }
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  const std::string& host = config.endpoint.host;
  if (!host.empty() && host.find_first_not_of("0123456789.:abcdefABCDEF") != std::string::npos)
    san += ",DNS:" + host;
  ok = ok && add_san(cert, san) && X509_sign(cert, key, EVP_sha256()) > 0;
  ok = ok && SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1;
  if (ok) fingerprint = sha256_fingerprint(cert);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

// The non-blocking driver is one thread that services every timeout itself: no locking needed.
// The blocking driver has threads that sit in read()/write() outside OpenSSL, so an assist
// thread must run QUIC's timers, and blocking calls must be reliable across threads.
bool set_concurrency(SSL_CTX* ctx, Driver driver) {
  uint64_t flags = driver == Driver::blocking
                       ? SSL_DOMAIN_FLAG_THREAD_ASSISTED | SSL_DOMAIN_FLAG_BLOCKING
                       : SSL_DOMAIN_FLAG_SINGLE_THREAD;
  return SSL_CTX_set_domain_flags(ctx, flags) == 1;
}

}  // namespace

std::string openssl_error_text() {
  unsigned long code = ERR_peek_last_error();
  std::string text;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    const char* reason = ERR_reason_error_string(code);
    text = reason ? reason : buf;
  }
  ERR_clear_error();
  return text.empty() ? "unknown OpenSSL error" : text;
}

std::vector<unsigned char> alpn_wire_format(const std::vector<std::string>& protocols) {
  std::vector<unsigned char> wire;
  for (const auto& p : protocols) {
    wire.push_back(static_cast<unsigned char>(p.size()));
    wire.insert(wire.end(), p.begin(), p.end());
  }
  return wire;
}

std::string sha256_fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!X509_digest(cert, EVP_sha256(), md, &len)) return {};
  std::string out;
  char byte[4];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(byte, sizeof byte, i ? ":%02X" : "%02X", md[i]);
    out += byte;
  }
  return out;
}

TlsContext::~TlsContext() {
  SSL_SESSION_free(session_in_);
  SSL_CTX_free(ctx_);
  if (keylog_) std::fclose(keylog_);
}

static TlsContext* context_of(const SSL* ssl) {
  return static_cast<TlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_data_index()));
}

void TlsContext::keylog_callback(const SSL* ssl, const char* line) {
  TlsContext* self = context_of(ssl);
  if (!self || !self->keylog_) return;
  std::fprintf(self->keylog_, "%s\n", line);
  std::fflush(self->keylog_);
}

// TLS 1.3 tickets arrive after the handshake; each replaces the file, so it holds the newest.
int TlsContext::new_session_callback(SSL* ssl, SSL_SESSION* session) {
  TlsContext* self = context_of(ssl);
  if (!self || self->session_out_.empty()) return 0;
  BIO* out = BIO_new_file(self->session_out_.c_str(), "w");
  if (out) {
    PEM_write_bio_SSL_SESSION(out, session);
    BIO_free(out);
  }
  return 0;  // we keep no reference
}

bool TlsContext::configure_common(const Config& config, Outcome& outcome) {
  if (!config.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx_, config.ciphersuites.c_str()) != 1) {
    outcome = {Status::usage, "invalid --ciphersuites '" + config.ciphersuites +
                                  "' (QUIC has TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, "
                                  "TLS_CHACHA20_POLY1305_SHA256)"};
    ERR_clear_error();
    return false;
  }
  if (!config.groups.empty() && SSL_CTX_set1_groups_list(ctx_, config.groups.c_str()) != 1) {
    outcome = {Status::usage, "invalid --groups '" + config.groups + "'"};
    ERR_clear_error();
    return false;
  }
  if (!config.keylog_file.empty()) {
    keylog_ = std::fopen(config.keylog_file.c_str(), "a");
    if (!keylog_) {
      outcome = {Status::usage, "cannot open key log file '" + config.keylog_file + "'"};
      return false;
    }
    SSL_CTX_set_keylog_callback(ctx_, keylog_callback);
  }
  return true;
}

bool TlsContext::load_trust(const Config& config, Outcome& outcome) {
  if (!config.cafile.empty() || !config.capath.empty()) {
    const char* file = config.cafile.empty() ? nullptr : config.cafile.c_str();
    const char* path = config.capath.empty() ? nullptr : config.capath.c_str();
    if (SSL_CTX_load_verify_locations(ctx_, file, path) != 1) {
      outcome = {Status::usage, "cannot load CA certificates from '" +
                                    (file ? config.cafile : config.capath) +
                                    "': " + openssl_error_text()};
      return false;
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx_) != 1) {
    outcome = {Status::internal, "cannot load the system trust store: " + openssl_error_text()};
    return false;
  }
  return true;
}

int TlsContext::verify_callback(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = static_cast<TlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_data_index()));
  if (!self || self->pin_.empty()) return preverify_ok;

  // With a pin, the chain and names do not matter: exactly one leaf certificate is accepted.
  if (X509_STORE_CTX_get_error_depth(store) != 0) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  std::string seen = sha256_fingerprint(X509_STORE_CTX_get_current_cert(store));
  if (hex_lower_no_colons(seen) == self->pin_) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  self->pin_rejected_ = true;
  self->pin_seen_ = seen;
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

int TlsContext::select_alpn(SSL*, const unsigned char** out, unsigned char* out_len,
                            const unsigned char* in, unsigned int in_len, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  // Server preference order: our list first, as the configured list is what the user asked for.
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, self->alpn_wire_.data(),
                            static_cast<unsigned>(self->alpn_wire_.size()), in,
                            in_len) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  // Say what did not match; the handshake failure itself is reported by the caller.
  if (self->emitter_) {
    std::string offered;
    for (unsigned i = 0; i < in_len; i += 1u + in[i])
      offered += (offered.empty() ? "" : ",") +
                 std::string(reinterpret_cast<const char*>(in + i + 1),
                             std::min<unsigned>(in[i], in_len - i - 1));
    std::string accepted;
    for (size_t i = 0; i < self->alpn_wire_.size(); i += 1u + self->alpn_wire_[i])
      accepted += (accepted.empty() ? "" : ",") +
                  std::string(reinterpret_cast<const char*>(&self->alpn_wire_[i + 1]),
                              self->alpn_wire_[i]);
    self->emitter_->emit(WarningEvent{"no ALPN agreed: the client offered " +
                                      (offered.empty() ? std::string("nothing") : offered) +
                                      ", we accept " + accepted + " (--alpn)"});
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

std::unique_ptr<TlsContext> TlsContext::for_client(const Config& config, Outcome& outcome) {
  auto tls = std::make_unique<TlsContext>();
  tls->ctx_ = SSL_CTX_new(OSSL_QUIC_client_method());
  if (!tls->ctx_) {
    outcome = {Status::internal, "cannot create QUIC client context: " + openssl_error_text()};
    return nullptr;
  }
  SSL_CTX_set_ex_data(tls->ctx_, ctx_data_index(), tls.get());
  if (!set_concurrency(tls->ctx_, config.driver)) {
    outcome = {Status::internal, "cannot set the QUIC concurrency model: " + openssl_error_text()};
    return nullptr;
  }
  tls->pin_ = config.pin_sha256;
  tls->alpn_wire_ = alpn_wire_format(config.alpn);
  if (!tls->configure_common(config, outcome)) return nullptr;

  if (config.insecure) {
    SSL_CTX_set_verify(tls->ctx_, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(tls->ctx_, SSL_VERIFY_PEER, verify_callback);
    if (!tls->load_trust(config, outcome)) return nullptr;
  }

  // Resumption: tickets go to --session-out; --session-in is offered on the next connection.
  SSL_CTX_set_session_cache_mode(tls->ctx_,
                                 SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  if (!config.session_out.empty()) {
    tls->session_out_ = config.session_out;
    SSL_CTX_sess_set_new_cb(tls->ctx_, new_session_callback);
  }
  if (!config.session_in.empty()) {
    BIO* in = BIO_new_file(config.session_in.c_str(), "r");
    tls->session_in_ = in ? PEM_read_bio_SSL_SESSION(in, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(in);
    if (!tls->session_in_) {
      outcome = {Status::usage, "cannot read a TLS session from '" + config.session_in + "'"};
      ERR_clear_error();
      return nullptr;
    }
  }
  if (!config.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(tls->ctx_, config.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls->ctx_, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      outcome = {Status::usage, "cannot load client certificate '" + config.cert_file +
                                    "' / key '" + config.key_file + "': " + openssl_error_text()};
      return nullptr;
    }
  }
  return tls;
}

std::unique_ptr<TlsContext> TlsContext::for_listener(const Config& config, Outcome& outcome,
                                                     CertificateEvent& cert, Emitter* emitter) {
  auto tls = std::make_unique<TlsContext>();
  tls->ctx_ = SSL_CTX_new(OSSL_QUIC_server_method());
  if (!tls->ctx_) {
    outcome = {Status::internal, "cannot create QUIC server context: " + openssl_error_text()};
    return nullptr;
  }
  SSL_CTX_set_ex_data(tls->ctx_, ctx_data_index(), tls.get());
  if (!set_concurrency(tls->ctx_, config.driver)) {
    outcome = {Status::internal, "cannot set the QUIC concurrency model: " + openssl_error_text()};
    return nullptr;
  }
  tls->alpn_wire_ = alpn_wire_format(config.alpn);
  tls->emitter_ = emitter;
  SSL_CTX_set_alpn_select_cb(tls->ctx_, select_alpn, tls.get());
  if (!tls->configure_common(config, outcome)) return nullptr;
  if (config.require_client_cert) {
    SSL_CTX_set_verify(tls->ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    if (!tls->load_trust(config, outcome)) return nullptr;
  }

  if (config.cert_file.empty()) {
    if (!generate_ephemeral(tls->ctx_, config, cert.fingerprint_sha256)) {
      outcome = {Status::internal,
                 "cannot generate an ephemeral certificate: " + openssl_error_text()};
      return nullptr;
    }
    cert.ephemeral = true;
  } else {
    if (SSL_CTX_use_certificate_chain_file(tls->ctx_, config.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls->ctx_, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls->ctx_) != 1) {
      outcome = {Status::usage, "cannot load certificate '" + config.cert_file + "' / key '" +
                                    config.key_file + "': " + openssl_error_text()};
      return nullptr;
    }
    cert.fingerprint_sha256 = sha256_fingerprint(SSL_CTX_get0_certificate(tls->ctx_));
  }
  return tls;
}

}  // namespace quicc
