#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "peer_certificate.hpp"
#include <cstdio>
#include <cstring>

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

// Whether inet_pton takes `host` as an IPv4 or IPv6 address (a "%zone" suffix aside). Names
// made only of hex digits and dots, like "cafe" or "dead.beef", are names.
bool is_ip_address(const std::string& host) {
  std::string address = host.substr(0, host.find('%'));
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, address.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, address.c_str(), buf) == 1;
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
  if (!host.empty() && !is_ip_address(host)) san += ",DNS:" + host;
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

// ERR_R_BIO_LIB ("BIO lib"), ERR_R_SYS_LIB ("system lib") and the like only say which library
// a failure came through; the error pushed before them says what went wrong.
bool is_library_level(unsigned long code) {
  constexpr unsigned long number_mask = (1ul << ERR_RFLAGS_OFFSET) - 1;
  return ERR_COMMON_ERROR(code) && (ERR_GET_REASON(code) & number_mask) < 256;
}

std::string error_entry_text(unsigned long code, const char* data, int flags) {
  if (ERR_SYSTEM_ERROR(code)) return std::strerror(ERR_GET_REASON(code));
  std::string text;
  if (const char* reason = ERR_reason_error_string(code)) {
    text = reason;
  } else {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text = buf;
  }
  if ((flags & ERR_TXT_STRING) && data && *data) text += std::string(" (") + data + ")";
  return text;
}

// Writes `session` as PEM to `path`, readable by its owner only (it resumes the session, so it
// is as secret as a key). Returns the system's reason on failure, else empty.
std::string write_session_file(const std::string& path, SSL_SESSION* session) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return std::strerror(errno);
  std::FILE* out = ::fdopen(fd, "w");
  if (!out) {
    int error = errno;
    ::close(fd);
    return std::strerror(error);
  }
  errno = 0;
  bool written = PEM_write_SSL_SESSION(out, session) == 1 && std::fflush(out) == 0;
  int error = errno;
  if (std::fclose(out) != 0 && written) {
    written = false;
    error = errno;
  }
  if (written) return {};
  return error != 0 ? std::strerror(error) : "cannot encode the session";
}

// Ciphersuites and groups, on a context of either role. Leaves OpenSSL's error queue empty.
Outcome apply_tls_lists(SSL_CTX* ctx, const Config& config) {
  if (!config.ciphersuites.empty()) {
    // OpenSSL skips unknown names in a list as long as one is known, and accepts TLS 1.3
    // suites its QUIC cannot use (CCM): compare every name with what a QUIC context offers
    // by default, which is everything OpenSSL's QUIC implements.
    std::vector<std::string> quic;
    STACK_OF(SSL_CIPHER)* offered = SSL_CTX_get_ciphers(ctx);
    for (int i = 0; i < sk_SSL_CIPHER_num(offered); ++i)
      quic.emplace_back(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(offered, i)));
    std::sort(quic.begin(), quic.end());
    std::string unknown;
    size_t start = 0;
    for (;;) {
      size_t colon = config.ciphersuites.find(':', start);
      std::string name = config.ciphersuites.substr(start, colon - start);
      if (unknown.empty() && std::find(quic.begin(), quic.end(), name) == quic.end())
        unknown = name.empty() ? std::string("an empty name") : "'" + name + "'";
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (!unknown.empty() || SSL_CTX_set_ciphersuites(ctx, config.ciphersuites.c_str()) != 1) {
      std::string names;
      for (const auto& name : quic) names += (names.empty() ? "" : ", ") + name;
      ERR_clear_error();
      return {Status::usage, "invalid --ciphersuites '" + config.ciphersuites + "': " +
                                 (unknown.empty() ? "rejected by OpenSSL" : unknown +
                                  " is not a QUIC ciphersuite") +
                                 " (QUIC has " + names + ")"};
    }
  }
  if (!config.groups.empty() && SSL_CTX_set1_groups_list(ctx, config.groups.c_str()) != 1) {
    ERR_clear_error();
    return {Status::usage, "invalid --groups '" + config.groups +
                               "' (OpenSSL group names, colon-separated: X25519:P-256)"};
  }
  return {};
}

}  // namespace

std::string openssl_error_text(int* system_error) {
  std::string first, specific;
  const char* data = nullptr;
  int flags = 0;
  if (system_error) *system_error = 0;
  while (unsigned long code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    if (system_error && *system_error == 0 && ERR_SYSTEM_ERROR(code))
      *system_error = ERR_GET_REASON(code);
    if (first.empty()) first = error_entry_text(code, data, flags);
    if (specific.empty() && !is_library_level(code))
      specific = error_entry_text(code, data, flags);
  }
  if (!specific.empty()) return specific;
  return first.empty() ? "unknown OpenSSL error" : first;
}

Outcome check_tls_lists(const Config& config) {
  if (config.ciphersuites.empty() && config.groups.empty()) return {};
  SSL_CTX* ctx = SSL_CTX_new(OSSL_QUIC_client_method());
  if (!ctx) return {Status::internal, "cannot create a QUIC context: " + openssl_error_text()};
  Outcome outcome = apply_tls_lists(ctx, config);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return outcome;
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
// A ticket that cannot be saved is worth a warning, not the run: the errors it leaves must not
// stay on OpenSSL's queue, where a later call would take them for its own failure. Tickets are
// counted even without --session-out (--check reports them).
int TlsContext::new_session_callback(SSL* ssl, SSL_SESSION* session) {
  TlsContext* self = context_of(ssl);
  if (!self) return 0;
  ++self->tickets_;
  std::string problem;
  if (!self->session_out_.empty()) {
    ERR_set_mark();
    problem = write_session_file(self->session_out_, session);
    ERR_pop_to_mark();
  }
  if (self->emitter_) {
    if (!problem.empty())
      self->emitter_->emit(
          WarningEvent{"cannot write --session-out '" + self->session_out_ + "': " + problem});
    self->emitter_->emit(SessionTicketEvent{problem.empty() ? self->session_out_ : ""});
  }
  return 0;  // we keep no reference
}

bool TlsContext::configure_common(const Config& config, Outcome& outcome) {
  if (outcome = apply_tls_lists(ctx_, config); !outcome.ok()) return false;
  if (!config.keylog_file.empty()) {
    // Secrets: readable by the owner only when we create the file.
    int fd = ::open(config.keylog_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    keylog_ = fd < 0 ? nullptr : ::fdopen(fd, "a");
    if (!keylog_) {
      int error = errno;
      if (fd >= 0) ::close(fd);
      outcome = {Status::usage, "cannot open key log file '" + config.keylog_file +
                                    "': " + std::strerror(error)};
      return false;
    }
    SSL_CTX_set_keylog_callback(ctx_, keylog_callback);
  }
  return true;
}

// Our certificate chain and its key, each failure naming its file and OpenSSL's reason.
bool TlsContext::load_certificate(const Config& config, Outcome& outcome) {
  if (SSL_CTX_use_certificate_chain_file(ctx_, config.cert_file.c_str()) != 1) {
    outcome = {Status::usage, "cannot load certificate chain '" + config.cert_file +
                                  "': " + openssl_error_text()};
    return false;
  }
  // Loading the key already compares it with the certificate: a mismatch is the more useful
  // thing to say then.
  bool loaded = SSL_CTX_use_PrivateKey_file(ctx_, config.key_file.c_str(), SSL_FILETYPE_PEM) == 1;
  unsigned long first = ERR_peek_error();
  bool mismatch = ERR_GET_LIB(first) == ERR_LIB_X509 &&
                  ERR_GET_REASON(first) == X509_R_KEY_VALUES_MISMATCH;
  if (!loaded && !mismatch) {
    outcome = {Status::usage, "cannot load private key '" + config.key_file +
                                  "': " + openssl_error_text()};
    return false;
  }
  if (!loaded || SSL_CTX_check_private_key(ctx_) != 1) {
    outcome = {Status::usage, "private key '" + config.key_file + "' does not match certificate '" +
                                  config.cert_file + "': " + openssl_error_text()};
    return false;
  }
  return true;
}

namespace {

// Whether `dir` holds OpenSSL's hash links (8 hex digits, ".", a digit: c_rehash, Debian's
// update-ca-certificates), which let a lookup read only the certificate it needs.
bool has_hash_links(const char* dir) {
  DIR* d = opendir(dir);
  if (!d) return false;
  bool found = false;
  while (dirent* e = readdir(d)) {
    const char* n = e->d_name;
    if (std::strlen(n) == 10 && n[8] == '.' && n[9] >= '0' && n[9] <= '9' &&
        std::all_of(n, n + 8, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
      found = true;
      break;
    }
  }
  closedir(d);
  return found;
}

}  // namespace

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
    return true;
  }
  // The system store. OpenSSL's default paths are a bundle file (OPENSSLDIR/cert.pem, Debian's
  // 140-odd CAs) that it parses whole before the first packet can leave (8 ms of a 27 ms
  // start, measured), and a hashed directory it reads lazily, one certificate per lookup.
  // When the default directory has hash links (Debian keeps it and the bundle from the same
  // ca-certificates set), and neither SSL_CERT_FILE nor SSL_CERT_DIR points elsewhere, the
  // directory alone is used: a verification reads the few certificates it needs. Another
  // SSL_CERT_DIR gets OpenSSL's default paths: that directory and the bundle, as always.
  const char* dir = X509_get_default_cert_dir();
  const char* dir_env = std::getenv(X509_get_default_cert_dir_env());
  if (!std::getenv(X509_get_default_cert_file_env()) &&
      (!dir_env || std::strcmp(dir_env, dir) == 0) && has_hash_links(dir) &&
      SSL_CTX_load_verify_dir(ctx_, dir) == 1)
    return true;
  ERR_clear_error();
  if (SSL_CTX_set_default_verify_paths(ctx_) != 1) {
    outcome = {Status::internal, "cannot load the system trust store: " + openssl_error_text()};
    return false;
  }
  return true;
}

int TlsContext::verify_callback(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = static_cast<TlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_data_index()));
  if (!self) return preverify_ok;
  if (self->pin_.empty()) {
    // Which certificate of the chain failed: the message describes the server's own, and must
    // not blame it for an intermediate's fault.
    if (!preverify_ok) {
      self->verify_failure_ = {X509_STORE_CTX_get_error_depth(store), {}};
      if (X509* failed = X509_STORE_CTX_get_current_cert(store))
        if (auto described = describe_certificate(failed, unix_now()))
          self->verify_failure_.subject = described->subject;
    }
    return preverify_ok;
  }

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

std::unique_ptr<TlsContext> TlsContext::for_client(const Config& config, Outcome& outcome,
                                                   Emitter* emitter) {
  auto tls = std::make_unique<TlsContext>();
  tls->emitter_ = emitter;
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
  tls->client_ = true;
  if (config.pin_sha256.empty() && !config.insecure) tls->verified_host_ = config.endpoint.host;
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
  tls->session_out_ = config.session_out;
  SSL_CTX_sess_set_new_cb(tls->ctx_, new_session_callback);
  if (!config.session_in.empty()) {
    BIO* in = BIO_new_file(config.session_in.c_str(), "r");
    tls->session_in_ = in ? PEM_read_bio_SSL_SESSION(in, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(in);
    if (!tls->session_in_) {
      outcome = {Status::usage, "cannot read a TLS session from '" + config.session_in +
                                    "': " + openssl_error_text()};
      return nullptr;
    }
  }
  if (!config.cert_file.empty() && !tls->load_certificate(config, outcome)) return nullptr;
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
    if (!tls->load_certificate(config, outcome)) return nullptr;
    cert.fingerprint_sha256 = sha256_fingerprint(SSL_CTX_get0_certificate(tls->ctx_));
  }
  return tls;
}

}  // namespace quicc
