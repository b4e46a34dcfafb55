// core/tls.cpp without a network: file modes of secrets, session tickets that cannot be saved,
// the ephemeral certificate's names, load errors and the TLS list check.
#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/tls.hpp"

using namespace quicc;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/quicc-unit-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

class RecordingSink : public EventSink {
 public:
  void on_event(const Event& event) override { events.push_back(event); }
  std::vector<std::string> warnings() const {
    std::vector<std::string> out;
    for (const auto& e : events)
      if (auto* w = std::get_if<WarningEvent>(&e.data)) out.push_back(w->text);
    return out;
  }
  std::vector<Event> events;
};

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

std::vector<std::string> dns_names(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS)
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                       ASN1_STRING_length(name->d.dNSName));
  }
  GENERAL_NAMES_free(names);
  return out;
}

// Hands `tls`'s new-session callback a session, as OpenSSL does when a ticket arrives.
void deliver_ticket(TlsContext& tls) {
  auto callback = SSL_CTX_sess_get_new_cb(tls.get());
  REQUIRE(static_cast<bool>(callback));
  SSL* ssl = SSL_new(tls.get());
  SSL_SESSION* session = SSL_SESSION_new();
  REQUIRE(ssl);
  REQUIRE(session);
  // Enough of a session for PEM_write_SSL_SESSION: version, cipher and secret.
  const unsigned char aes128gcm[] = {0x13, 0x01};
  const unsigned char secret[32] = {};
  REQUIRE(SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION) == 1);
  REQUIRE(SSL_SESSION_set_cipher(session, SSL_CIPHER_find(ssl, aes128gcm)) == 1);
  REQUIRE(SSL_SESSION_set1_master_key(session, secret, sizeof secret) == 1);
  callback(ssl, session);
  SSL_SESSION_free(session);
  SSL_free(ssl);
}

}  // namespace

TEST_CASE("core::TlsContext: key log and session files are the owner's only") {
  TempDir dir;
  Config config;
  config.keylog_file = dir.path + "/keys.txt";
  config.session_out = dir.path + "/session.pem";
  RecordingSink sink;
  Emitter emitter(sink);
  Outcome outcome;
  auto tls = TlsContext::for_client(config, outcome, &emitter);
  REQUIRE_MESSAGE(tls, outcome.message);
  CHECK(mode_of(config.keylog_file) == 0600);
  deliver_ticket(*tls);
  CHECK(mode_of(config.session_out) == 0600);
  std::ifstream in(config.session_out);
  std::string first;
  std::getline(in, first);
  CHECK(first == "-----BEGIN SSL SESSION PARAMETERS-----");
  CHECK(sink.warnings().empty());
}

TEST_CASE("core::TlsContext: a ticket that cannot be saved is a warning, not an error") {
  TempDir dir;
  Config config;
  config.session_out = dir.path + "/gone/session.pem";
  ERR_clear_error();

  SUBCASE("with an emitter") {
    RecordingSink sink;
    Emitter emitter(sink);
    Outcome outcome;
    auto tls = TlsContext::for_client(config, outcome, &emitter);
    REQUIRE_MESSAGE(tls, outcome.message);
    deliver_ticket(*tls);
    CHECK(sink.warnings() == std::vector<std::string>{"cannot write --session-out '" +
                                                      config.session_out + "': " +
                                                      std::strerror(ENOENT)});
  }
  SUBCASE("without one (existing call sites)") {
    Outcome outcome;
    auto tls = TlsContext::for_client(config, outcome);
    REQUIRE_MESSAGE(tls, outcome.message);
    deliver_ticket(*tls);
  }
  // A stale error would turn a good transfer into a failure later.
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("core::TlsContext: the ephemeral certificate names the listen host unless an address") {
  for (auto [host, named] : {std::pair{"cafe", true}, std::pair{"dead.beef", true},
                             std::pair{"example.org", true}, std::pair{"127.0.0.2", false},
                             std::pair{"0.0.0.0", false}, std::pair{"::", false},
                             std::pair{"fe80::1%lo", false}, std::pair{"", false}}) {
    CAPTURE(host);
    Config config;
    config.role = Role::listener;
    config.endpoint = {host, 0, false};
    Outcome outcome;
    CertificateEvent cert;
    auto tls = TlsContext::for_listener(config, outcome, cert, nullptr);
    REQUIRE_MESSAGE(tls, outcome.message);
    CHECK(cert.ephemeral);
    auto names = dns_names(SSL_CTX_get0_certificate(tls->get()));
    std::vector<std::string> expected = {"localhost"};
    if (named) expected.emplace_back(host);
    CHECK(names == expected);
  }
}

TEST_CASE("core::TlsContext: load failures name the file and OpenSSL's own reason") {
  TempDir dir;
  std::string not_pem = dir.path + "/not.pem";
  std::ofstream(not_pem) << "hello\n";
  std::string missing = dir.path + "/missing.pem";

  auto listener_error = [](const std::string& cert, const std::string& key) {
    Config config;
    config.role = Role::listener;
    config.cert_file = cert;
    config.key_file = key;
    Outcome outcome;
    CertificateEvent event;
    CHECK_FALSE(TlsContext::for_listener(config, outcome, event, nullptr));
    CHECK(outcome.status == Status::usage);
    CHECK(ERR_peek_error() == 0);
    return outcome.message;
  };
  std::string message = listener_error(not_pem, not_pem);
  CHECK(message.starts_with("cannot load certificate chain '" + not_pem + "': no start line"));
  message = listener_error(missing, missing);
  CHECK(message == "cannot load certificate chain '" + missing + "': " + std::strerror(ENOENT));
  for (const std::string& m :
       {listener_error(not_pem, not_pem), listener_error(missing, missing)}) {
    CHECK(m.find("BIO lib") == std::string::npos);
    CHECK(m.find("system lib") == std::string::npos);
    CHECK(m.find("PEM lib") == std::string::npos);
  }

  Config client;
  client.cafile = not_pem;
  Outcome outcome;
  CHECK_FALSE(TlsContext::for_client(client, outcome));
  CHECK(outcome.message == "cannot load CA certificates from '" + not_pem +
                               "': no certificate or crl found");
  client = {};
  client.session_in = not_pem;
  CHECK_FALSE(TlsContext::for_client(client, outcome));
  CHECK(outcome.message.starts_with("cannot read a TLS session from '" + not_pem +
                                    "': no start line"));
}

TEST_CASE("core::openssl_error_text prefers the first specific reason") {
  ERR_raise_data(ERR_LIB_PEM, PEM_R_NO_START_LINE, "Expecting: %s", "CERTIFICATE");
  ERR_raise(ERR_LIB_SSL, ERR_R_PEM_LIB);
  CHECK(openssl_error_text() == "no start line (Expecting: CERTIFICATE)");
  ERR_raise(ERR_LIB_SYS, EACCES);
  ERR_raise(ERR_LIB_BIO, ERR_R_SYS_LIB);
  CHECK(openssl_error_text() == std::strerror(EACCES));
  ERR_raise(ERR_LIB_SSL, ERR_R_BIO_LIB);
  CHECK(openssl_error_text() == "BIO lib");  // nothing better on the queue
  CHECK(openssl_error_text() == "unknown OpenSSL error");
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("core::check_tls_lists") {
  Config config;
  CHECK(check_tls_lists(config).ok());
  config.ciphersuites = "TLS_AES_256_GCM_SHA384";
  config.groups = "P-256";
  CHECK(check_tls_lists(config).ok());
  config.ciphersuites = "TLS_AES_128_CCM_8_SHA256";
  Outcome outcome = check_tls_lists(config);
  CHECK(outcome.status == Status::usage);
  CHECK(outcome.message.starts_with("invalid --ciphersuites 'TLS_AES_128_CCM_8_SHA256': "));
  config.ciphersuites.clear();
  config.groups = "nope";
  CHECK(check_tls_lists(config).status == Status::usage);
  CHECK(ERR_peek_error() == 0);
}
