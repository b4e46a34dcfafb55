#include "peer_certificate.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <ctime>

#include "tls.hpp"

namespace quicc {

namespace {

constexpr int64_t seconds_per_day = 86'400;

std::string name_text(const X509_NAME* name) {
  BIO* mem = BIO_new(BIO_s_mem());
  if (!mem) return {};
  // RFC 2253, with the values as UTF-8 instead of \XX for every byte above 0x7f ("Zürich"
  // stays readable); control bytes are still escaped, and the sinks escape what a peer put in
  // its names all the same.
  X509_NAME_print_ex(mem, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(mem, &data);
  std::string out(data, n > 0 ? static_cast<size_t>(n) : 0);
  BIO_free(mem);
  return out;
}

std::string asn1_text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string address_text(const ASN1_OCTET_STRING* ip) {
  char text[INET6_ADDRSTRLEN] = "";
  int length = ASN1_STRING_length(ip);
  int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
  if (!family || !inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text)) return "?";
  return text;
}

std::vector<std::string> alt_names(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    switch (name->type) {
      case GEN_DNS: out.push_back("DNS:" + asn1_text(name->d.dNSName)); break;
      case GEN_IPADD: out.push_back("IP:" + address_text(name->d.iPAddress)); break;
      case GEN_EMAIL: out.push_back("email:" + asn1_text(name->d.rfc822Name)); break;
      case GEN_URI:
        out.push_back("URI:" + asn1_text(name->d.uniformResourceIdentifier));
        break;
      default: break;  // names a client cannot be verified against
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::optional<int64_t> unix_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return static_cast<int64_t>(::timegm(&tm));
}

std::string days_text(int64_t n) { return std::to_string(n) + (n == 1 ? " day" : " days"); }

}  // namespace

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

int64_t days_left(int64_t not_after, int64_t now) {
  int64_t left = not_after - now;
  // Rounded down also below zero: a certificate that expired an hour ago has -1 days left.
  return left >= 0 ? left / seconds_per_day : -((-left + seconds_per_day - 1) / seconds_per_day);
}

std::string iso8601_utc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (!::gmtime_r(&t, &tm)) return "?";
  char text[32];
  if (std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return "?";
  return text;
}

std::string expiry_text(const PeerCertificate& cert) {
  std::string when = iso8601_utc(cert.not_after);
  if (cert.days_left >= 1) return "expires in " + days_text(cert.days_left) + ", on " + when;
  if (cert.not_after >= cert.checked_at) return "expires within a day, on " + when;
  int64_t ago = (cert.checked_at - cert.not_after) / seconds_per_day;  // whole days
  if (ago == 0) return "expired less than a day ago, on " + when;
  return "expired " + days_text(ago) + " ago, on " + when;
}

Outcome expiry_outcome(const PeerCertificate& cert, int64_t warn_days, int64_t now) {
  if (cert.not_after - now >= warn_days * seconds_per_day) return {};
  return {Status::cert_expiring, "peer certificate " + expiry_text(cert) + " (--warn-days " +
                                     std::to_string(warn_days) + ")"};
}

std::optional<PeerCertificate> describe_certificate(X509* cert, int64_t now) {
  if (!cert) return std::nullopt;
  PeerCertificate c;
  c.subject = name_text(X509_get_subject_name(cert));
  c.issuer = name_text(X509_get_issuer_name(cert));
  c.names = alt_names(cert);
  c.not_before = unix_time(X509_get0_notBefore(cert)).value_or(0);
  c.not_after = unix_time(X509_get0_notAfter(cert)).value_or(0);
  c.checked_at = now;
  c.days_left = days_left(c.not_after, now);
  c.sha256 = sha256_fingerprint(cert);
  ERR_clear_error();
  return c;
}

std::optional<PeerCertificate> peer_certificate_of(SSL* conn, int64_t now) {
  X509* leaf = SSL_get0_peer_certificate(conn);
  if (!leaf) {
    // A failed verification leaves the received chain in the session, leaf first.
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(conn);
    if (chain && sk_X509_num(chain) > 0) leaf = sk_X509_value(chain, 0);
  }
  return describe_certificate(leaf, now);
}

}  // namespace quicc
