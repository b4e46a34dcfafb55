// cli/check_report.cpp: --check's report, gathered from events as the engine emits them, then
// printed as key: value lines and as one JSON object.
#include <doctest/doctest.h>

#include <string>

#include "cli/check_report.hpp"

using namespace quicc;
using namespace std::chrono_literals;

namespace {

class NullSink : public EventSink {
 public:
  void on_event(const Event&) override { ++count; }
  int count = 0;
};

PeerCertificate certificate() {
  PeerCertificate c;
  c.subject = "CN=localhost";
  c.issuer = "CN=quicc e2e test CA";
  c.names = {"DNS:localhost", "IP:127.0.0.1"};
  c.not_before = 1'780'315'200;  // 2026-06-01T12:00:00Z
  c.not_after = 1'782'907'200;   // 2026-07-01T12:00:00Z
  c.checked_at = 1'780'315'200 + 86'400;
  c.days_left = 29;
  c.sha256 = "AB:CD";
  return c;
}

HandshakeDoneEvent handshake() {
  HandshakeDoneEvent h;
  h.alpn = "h3";
  h.cipher = "TLS_AES_128_GCM_SHA256";
  h.group = "x25519";
  h.verify_result = "ok";
  h.resumed = true;
  h.session_offered = true;
  h.handshake_us = 4'250;
  h.rtt_us = 1'500;
  h.tls_version = "TLSv1.3";
  return h;
}

// The events of a check that went well, in the order the engine emits them.
cli::CheckFacts collect_good_check(NullSink& next) {
  cli::CheckCollector collector(next);
  collector.on_event({1ms, HandshakeStartEvent{"127.0.0.1:4433", 1, 1}});
  collector.on_event({5ms, handshake()});
  collector.on_event({5ms, PeerCertificateEvent{certificate()}});
  collector.on_event({7ms, SessionTicketEvent{"s.pem"}});
  collector.on_event({7ms, SessionTicketEvent{"s.pem"}});
  CloseEvent close;
  close.local = true;
  collector.on_event({9ms, close});
  return collector.facts();
}

}  // namespace

TEST_CASE("cli::check_text: every field of a good check, in order") {
  NullSink next;
  cli::CheckFacts facts = collect_good_check(next);
  CHECK(next.count == 6);  // every event went on to the log
  auto fields = cli::check_fields(facts, cli::Trust::verified, Outcome{}, 0);
  CHECK(cli::check_text(fields) ==
        "status: ok\n"
        "exit_code: 0\n"
        "peer: 127.0.0.1:4433\n"
        "alpn: h3\n"
        "tls_version: TLSv1.3\n"
        "cipher: TLS_AES_128_GCM_SHA256\n"
        "group: x25519\n"
        "cert_subject: CN=localhost\n"
        "cert_issuer: CN=quicc e2e test CA\n"
        "cert_names: DNS:localhost, IP:127.0.0.1\n"
        "cert_not_before: 2026-06-01T12:00:00Z\n"
        "cert_not_after: 2026-07-01T12:00:00Z\n"
        "cert_days_left: 29\n"
        "cert_sha256: AB:CD\n"
        "verify: ok\n"
        "handshake_ms: 4.250\n"
        "handshake_rtt_ms: 1.500\n"
        "session_offered: yes\n"
        "session_resumed: yes\n"
        "session_tickets: 2\n"
        "session_saved_to: s.pem\n"
        "closed_by: local\n"
        "close_kind: application\n"
        "close_code: 0\n");
}

TEST_CASE("cli::check_json: one object, lists as arrays, numbers and booleans as such") {
  NullSink next;
  cli::CheckFacts facts = collect_good_check(next);
  auto fields = cli::check_fields(facts, cli::Trust::pinned, Outcome{Status::cert_expiring, "soon"}, 17);
  CHECK(cli::check_json(fields) ==
        "{\"status\":\"cert_expiring\",\"exit_code\":17,\"error\":\"soon\","
        "\"peer\":\"127.0.0.1:4433\",\"alpn\":\"h3\",\"tls_version\":\"TLSv1.3\","
        "\"cipher\":\"TLS_AES_128_GCM_SHA256\",\"group\":\"x25519\","
        "\"cert_subject\":\"CN=localhost\",\"cert_issuer\":\"CN=quicc e2e test CA\","
        "\"cert_names\":[\"DNS:localhost\",\"IP:127.0.0.1\"],"
        "\"cert_not_before\":\"2026-06-01T12:00:00Z\",\"cert_not_after\":\"2026-07-01T12:00:00Z\","
        "\"cert_days_left\":29,\"cert_sha256\":\"AB:CD\",\"verify\":\"pinned (--pin-sha256)\","
        "\"handshake_ms\":4.250,\"handshake_rtt_ms\":1.500,\"session_offered\":true,"
        "\"session_resumed\":true,\"session_tickets\":2,\"session_saved_to\":\"s.pem\","
        "\"closed_by\":\"local\",\"close_kind\":\"application\",\"close_code\":0}\n");
}

TEST_CASE("cli::check_fields: a failed check reports what it learned") {
  struct Case {
    const char* name;
    bool certificate;
    Outcome outcome;
    int exit_code;
    const char* text;
  };
  const Case cases[] = {
      {"verification failed: the certificate, no handshake fields", true,
       {Status::verify_failed, "certificate verification failed"}, 6,
       "status: verify_failed\nexit_code: 6\nerror: certificate verification failed\n"
       "peer: 127.0.0.1:4433\ncert_subject: CN=localhost\ncert_issuer: CN=quicc e2e test CA\n"
       "cert_names: DNS:localhost, IP:127.0.0.1\ncert_not_before: 2026-06-01T12:00:00Z\n"
       "cert_not_after: 2026-07-01T12:00:00Z\ncert_days_left: 29\ncert_sha256: AB:CD\n"},
      {"nothing listens: the address only", false,
       {Status::port_unreachable, "nothing listens on UDP 127.0.0.1:4433"}, 18,
       "status: port_unreachable\nexit_code: 18\nerror: nothing listens on UDP 127.0.0.1:4433\n"
       "peer: 127.0.0.1:4433\n"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    NullSink next;
    cli::CheckCollector collector(next);
    collector.on_event({1ms, HandshakeStartEvent{"127.0.0.1:4433", 1, 1}});
    if (c.certificate) collector.on_event({5ms, PeerCertificateEvent{certificate()}});
    auto fields = cli::check_fields(collector.facts(), cli::Trust::verified, c.outcome, c.exit_code);
    CHECK(cli::check_text(fields) == c.text);
  }
}

TEST_CASE("cli::check_text: --insecure, no ticket, a peer's close and text it controls") {
  HandshakeDoneEvent h = handshake();
  h.resumed = false;
  h.session_offered = false;
  h.rtt_us.reset();
  cli::CheckFacts facts;
  facts.handshake = h;
  PeerCertificate c = certificate();
  c.subject = "CN=evil\x1b[2J";
  c.names = {"DNS:a\nb"};
  facts.certificate = c;
  CloseEvent close;
  close.local = false;
  close.error_code = 0x100;
  close.reason = "bye\x07";
  facts.close = close;
  std::string text = cli::check_text(cli::check_fields(facts, cli::Trust::none, Outcome{}, 0));
  CHECK(text.find("cert_subject: CN=evil\\x1b[2J\n") != std::string::npos);
  CHECK(text.find("cert_names: DNS:a\\x0ab\n") != std::string::npos);
  CHECK(text.find("verify: not verified (--insecure)\n") != std::string::npos);
  CHECK(text.find("handshake_rtt_ms") == std::string::npos);
  CHECK(text.find("session_offered: no\nsession_resumed: no\nsession_tickets: 0\nclosed_by: peer\n") !=
        std::string::npos);
  CHECK(text.find("close_code: 256\nclose_reason: bye\\x07\n") != std::string::npos);
}
