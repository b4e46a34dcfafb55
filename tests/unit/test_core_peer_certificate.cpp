// core/peer_certificate.cpp: the dates of a certificate as --check and --warn-days count them,
// and a certificate read back the way the report shows it.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <string>
#include <vector>

#include "core/peer_certificate.hpp"

using namespace quicc;

namespace {

constexpr int64_t day = 86'400;
// 2026-07-01T12:00:00Z
constexpr int64_t noon = 1'782'907'200;

PeerCertificate expiring_at(int64_t not_after, int64_t now) {
  PeerCertificate c;
  c.not_after = not_after;
  c.checked_at = now;
  c.days_left = days_left(not_after, now);
  return c;
}

}  // namespace

TEST_CASE("core::days_left rounds down, also once expired") {
  struct Case {
    const char* name;
    int64_t not_after;
    int64_t now;
    int64_t days;
  };
  const Case cases[] = {
      {"30 days exactly", noon + 30 * day, noon, 30},
      {"a second short of 30 days", noon + 30 * day - 1, noon, 29},
      {"a day and a second", noon + day + 1, noon, 1},
      {"its last day", noon + 3600, noon, 0},
      {"the very second", noon, noon, 0},
      {"expired a second ago", noon - 1, noon, -1},
      {"expired an hour ago", noon - 3600, noon, -1},
      {"expired a day ago, exactly", noon - day, noon, -1},
      {"expired a day and a second ago", noon - day - 1, noon, -2},
      {"expired a year ago", noon - 365 * day, noon, -365},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(days_left(c.not_after, c.now) == c.days);
  }
}

TEST_CASE("core::iso8601_utc") {
  CHECK(iso8601_utc(0) == "1970-01-01T00:00:00Z");
  CHECK(iso8601_utc(noon) == "2026-07-01T12:00:00Z");
  CHECK(iso8601_utc(951'782'400) == "2000-02-29T00:00:00Z");  // a leap day
  CHECK(iso8601_utc(253'402'300'799) == "9999-12-31T23:59:59Z");  // X.509's latest GeneralizedTime
}

TEST_CASE("core::expiry_text and core::expiry_outcome (--warn-days)") {
  struct Case {
    const char* name;
    int64_t not_after;
    int64_t warn_days;
    const char* text;
    Status status;
  };
  const Case cases[] = {
      {"29 days, warned at 30", noon + 29 * day + 5, 30,
       "expires in 29 days, on 2026-07-30T12:00:05Z", Status::cert_expiring},
      {"29 days, warned at 29", noon + 29 * day + 5, 29,
       "expires in 29 days, on 2026-07-30T12:00:05Z", Status::ok},
      {"exactly N days is not within N days", noon + 10 * day, 10,
       "expires in 10 days, on 2026-07-11T12:00:00Z", Status::ok},
      {"a second less is", noon + 10 * day - 1, 10,
       "expires in 9 days, on 2026-07-11T11:59:59Z", Status::cert_expiring},
      {"one day", noon + day, 0, "expires in 1 day, on 2026-07-02T12:00:00Z", Status::ok},
      {"within a day", noon + 60, 1, "expires within a day, on 2026-07-01T12:01:00Z",
       Status::cert_expiring},
      {"expired: --warn-days 0 still fails", noon - 60, 0,
       "expired less than a day ago, on 2026-07-01T11:59:00Z", Status::cert_expiring},
      {"expired a day ago", noon - day, 0, "expired 1 day ago, on 2026-06-30T12:00:00Z",
       Status::cert_expiring},
      {"expired 3 days ago", noon - 3 * day - 7, 0, "expired 3 days ago, on 2026-06-28T11:59:53Z",
       Status::cert_expiring},
      {"--warn-days 4000 against a 30-day certificate", noon + 30 * day, 4000,
       "expires in 30 days, on 2026-07-31T12:00:00Z", Status::cert_expiring},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    PeerCertificate cert = expiring_at(c.not_after, noon);
    CHECK(expiry_text(cert) == c.text);
    Outcome o = expiry_outcome(cert, c.warn_days, noon);
    CHECK(o.status == c.status);
    if (c.status != Status::ok)
      CHECK(o.message == std::string("peer certificate ") + c.text + " (--warn-days " +
                             std::to_string(c.warn_days) + ")");
  }
}

TEST_CASE("core::describe_certificate reads names, dates and the fingerprint") {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  REQUIRE(key);
  REQUIRE(cert);
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  ASN1_TIME_set(X509_getm_notBefore(cert), noon - day);
  ASN1_TIME_set(X509_getm_notAfter(cert), noon + 20 * day + 10);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "L", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Z\xc3\xbcrich"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Example, Inc."), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("server"), -1, -1, 0);
  X509_set_issuer_name(cert, subject);
  X509_set_pubkey(cert, key);
  X509V3_CTX v3{};
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name,
                                            "DNS:a.example,IP:192.0.2.1,IP:2001:db8::1,"
                                            "email:ops@example.org");
  REQUIRE(san);
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);

  auto c = describe_certificate(cert, noon);
  REQUIRE(c);
  // RFC 2253: most specific first, commas escaped, UTF-8 kept.
  CHECK(c->subject == "CN=server,O=Example\\, Inc.,L=Z\xc3\xbcrich");
  CHECK(c->issuer == c->subject);
  CHECK(c->names == std::vector<std::string>{"DNS:a.example", "IP:192.0.2.1", "IP:2001:db8::1",
                                             "email:ops@example.org"});
  CHECK(c->not_before == noon - day);
  CHECK(c->not_after == noon + 20 * day + 10);
  CHECK(c->days_left == 20);
  CHECK(c->sha256.size() == 32 * 3 - 1);
  CHECK_FALSE(describe_certificate(nullptr, noon));
  X509_free(cert);
  EVP_PKEY_free(key);
}
