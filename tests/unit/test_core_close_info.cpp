// core/close_info.cpp as tables: the names of close codes (QUIC's, and HTTP/3's when the ALPN
// is h3), and what a failed handshake says: the certificate and the next step for a
// verification failure, exit 18 for a port nothing listens on. And core/check.cpp's ticket wait.
#include <doctest/doctest.h>
#include <openssl/x509.h>

#include <cerrno>
#include <string>

#include "core/check.hpp"
#include "core/close_info.hpp"

using namespace quicc;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

PeerCertificate test_certificate() {
  PeerCertificate c;
  c.subject = "CN=localhost";
  c.issuer = "CN=quicc e2e test CA";
  c.names = {"DNS:localhost", "IP:127.0.0.1"};
  c.not_before = 1'780'315'200;  // 2026-06-01T12:00:00Z
  c.not_after = 1'782'907'200;   // 2026-07-01T12:00:00Z
  c.checked_at = c.not_after + 3 * 86'400;
  c.days_left = days_left(c.not_after, c.checked_at);
  c.sha256 = "AB:CD:EF";
  return c;
}

CloseInfo peer_close(bool transport, uint64_t code, std::string alpn, std::string reason = {}) {
  CloseInfo info;
  info.transport = transport;
  info.code = code;
  info.alpn = std::move(alpn);
  info.reason = std::move(reason);
  return info;
}

}  // namespace

TEST_CASE("core::application_code_name: HTTP/3 and QPACK codes, only under h3") {
  struct Case {
    const char* alpn;
    uint64_t code;
    const char* name;
  };
  const Case cases[] = {
      {"h3", 0x100, "H3_NO_ERROR"},
      {"h3", 0x101, "H3_GENERAL_PROTOCOL_ERROR"},
      {"h3", 0x102, "H3_INTERNAL_ERROR"},
      {"h3", 0x103, "H3_STREAM_CREATION_ERROR"},
      {"h3", 0x104, "H3_CLOSED_CRITICAL_STREAM"},
      {"h3", 0x105, "H3_FRAME_UNEXPECTED"},
      {"h3", 0x106, "H3_FRAME_ERROR"},
      {"h3", 0x107, "H3_EXCESSIVE_LOAD"},
      {"h3", 0x108, "H3_ID_ERROR"},
      {"h3", 0x109, "H3_SETTINGS_ERROR"},
      {"h3", 0x10a, "H3_MISSING_SETTINGS"},
      {"h3", 0x10b, "H3_REQUEST_REJECTED"},
      {"h3", 0x10c, "H3_REQUEST_CANCELLED"},
      {"h3", 0x10d, "H3_REQUEST_INCOMPLETE"},
      {"h3", 0x10e, "H3_MESSAGE_ERROR"},
      {"h3", 0x10f, "H3_CONNECT_ERROR"},
      {"h3", 0x110, "H3_VERSION_FALLBACK"},
      {"h3", 0x111, ""},
      {"h3", 0xff, ""},
      {"h3", 0x0, ""},
      {"h3", 0x200, "QPACK_DECOMPRESSION_FAILED"},
      {"h3", 0x201, "QPACK_ENCODER_STREAM_ERROR"},
      {"h3", 0x202, "QPACK_DECODER_STREAM_ERROR"},
      {"h3", 0x203, ""},
      {"hq-interop", 0x100, ""},
      {"quicc", 0x100, ""},
      {"", 0x100, ""},
      {"h3-29", 0x100, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.alpn);
    CAPTURE(c.code);
    CHECK(application_code_name(c.alpn, c.code) == c.name);
  }
}

TEST_CASE("core::transport_code_name: RFC 9000's codes") {
  CHECK(transport_code_name(0x0) == "NO_ERROR");
  CHECK(transport_code_name(0x1) == "INTERNAL_ERROR");
  CHECK(transport_code_name(0xa) == "PROTOCOL_VIOLATION");
  CHECK(transport_code_name(0xe) == "KEY_UPDATE_ERROR");
  CHECK(transport_code_name(0x10) == "NO_VIABLE_PATH");
  CHECK(transport_code_name(0x11) == "");
  CHECK(transport_code_name(0x178) == "");  // a TLS alert: described by the alert instead
}

TEST_CASE("core::describe_code and close_outcome name the peer's code") {
  struct Case {
    const char* name;
    CloseInfo info;
    const char* message;
  };
  const Case cases[] = {
      {"h3 application code", peer_close(false, 0x10c, "h3"),
       "peer closed the connection: application error 0x10c H3_REQUEST_CANCELLED"},
      {"h3 code with a reason", peer_close(false, 0x101, "h3", "bad frame"),
       "peer closed the connection: application error 0x101 H3_GENERAL_PROTOCOL_ERROR (bad frame)"},
      {"the same code under another protocol", peer_close(false, 0x101, "hq-interop"),
       "peer closed the connection: application error 0x101"},
      {"transport code", peer_close(true, 0xa, "h3"),
       "peer closed the connection: transport error 0xa PROTOCOL_VIOLATION"},
      {"unknown transport code", peer_close(true, 0x42, ""),
       "peer closed the connection: transport error 0x42"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(close_outcome(c.info).message == c.message);
  }
}

TEST_CASE("core::handshake_outcome: verification failures name the certificate and the way on") {
  struct Case {
    const char* name;
    long verify_result;
    bool client;
    std::vector<std::string> parts;  // each must appear
    std::vector<std::string> absent;
  };
  const std::string cert_text =
      "the certificate: subject \"CN=localhost\", issuer \"CN=quicc e2e test CA\", names "
      "DNS:localhost IP:127.0.0.1, valid 2026-06-01T12:00:00Z to 2026-07-01T12:00:00Z, sha256 "
      "AB:CD:EF";
  const Case cases[] = {
      {"untrusted issuer", X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true,
       {"certificate verification failed: unable to get local issuer certificate; ", cert_text,
        "; to trust it, give --cafile FILE (the CA that issued it), --pin-sha256 AB:CD:EF "
        "(this certificate only), or --insecure (no verification)"},
       {}},
      {"self-signed", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, true,
       {"self-signed certificate; ", cert_text,
        "--cafile FILE (the certificate itself: it is self-signed), --pin-sha256 AB:CD:EF"},
       {}},
      {"name mismatch", X509_V_ERR_HOSTNAME_MISMATCH, true,
       {"hostname mismatch: it is not for example.org; ", cert_text,
        "give one of its names as HOST (--connect-to ADDR keeps the address you dial), or "
        "--pin-sha256 AB:CD:EF"},
       {"--cafile"}},
      // An IP address HOST: the same advice (the CA is trusted; the name is what is wrong).
      {"address mismatch", X509_V_ERR_IP_ADDRESS_MISMATCH, true,
       {"IP address mismatch: it is not for example.org; ", cert_text,
        "give one of its names as HOST (--connect-to ADDR keeps the address you dial), or "
        "--pin-sha256 AB:CD:EF"},
       {"--cafile"}},
      {"expired", X509_V_ERR_CERT_HAS_EXPIRED, true,
       {"certificate has expired: it expired 3 days ago, on 2026-07-01T12:00:00Z; ", cert_text,
        "to accept it anyway, give --pin-sha256 AB:CD:EF (this certificate only) or --insecure"},
       {"--cafile"}},
      {"not yet valid", X509_V_ERR_CERT_NOT_YET_VALID, true,
       {"certificate is not yet valid: it is valid from 2026-06-01T12:00:00Z; ", cert_text,
        "--pin-sha256 AB:CD:EF"},
       {}},
      {"a listener verifying a client gives no client options", X509_V_ERR_CERT_HAS_EXPIRED,
       false, {"certificate has expired", cert_text}, {"--pin-sha256", "--insecure"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    HandshakeFailure f;
    f.verify_result = c.verify_result;
    f.certificate = test_certificate();
    f.client = c.client;
    f.verified_host = "example.org";
    Outcome o = handshake_outcome(f);
    CAPTURE(o.message);
    CHECK(o.status == Status::verify_failed);
    for (const auto& part : c.parts) CHECK(contains(o.message, part));
    for (const auto& part : c.absent) CHECK_FALSE(contains(o.message, part));
  }

  SUBCASE("an intermediate's fault is not blamed on the server's certificate") {
    HandshakeFailure f;
    f.verify_result = X509_V_ERR_CERT_HAS_EXPIRED;
    f.certificate = test_certificate();
    f.client = true;
    f.failed_depth = 1;
    f.failed_subject = "CN=Intermediate";
    Outcome o = handshake_outcome(f);
    CHECK(contains(o.message, "certificate verification failed: certificate has expired (the "
                              "chain's certificate at depth 1, \"CN=Intermediate\", not the "
                              "server's own); the certificate: subject \"CN=localhost\""));
    CHECK_FALSE(contains(o.message, "it expired"));
  }
  SUBCASE("without the certificate, the pin is a placeholder") {
    HandshakeFailure f;
    f.verify_result = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    f.client = true;
    Outcome o = handshake_outcome(f);
    CHECK(contains(o.message, "--pin-sha256 FINGERPRINT (this certificate only)"));
    CHECK_FALSE(contains(o.message, "the certificate:"));
  }
  SUBCASE("a rejected pin names the certificate it saw") {
    HandshakeFailure f;
    f.rejected_pin = "AB:CD:EF";
    f.certificate = test_certificate();
    f.client = true;
    Outcome o = handshake_outcome(f);
    CHECK(o.status == Status::verify_failed);
    CHECK(o.message == "certificate sha256 fingerprint AB:CD:EF does not match --pin-sha256; " +
                           cert_text);
  }
}

TEST_CASE("core::handshake_outcome: the network's refusals") {
  CloseInfo network;
  network.local = true;
  network.transport = true;
  network.code = 0x1;  // INTERNAL_ERROR, with OpenSSL's reason for a failed network BIO
  network.reason = "network BIO I/O error";
  struct Case {
    const char* name;
    int system_error;
    Status status;
    const char* message;
  };
  const Case cases[] = {
      {"ICMP port unreachable", ECONNREFUSED, Status::port_unreachable,
       "nothing listens on UDP that port (ICMP port unreachable): is the QUIC server running, "
       "and on that port?"},
      {"host unreachable", EHOSTUNREACH, Status::handshake_failed,
       "handshake failed: the network refused our packets (No route to host): is a QUIC server "
       "listening on that UDP port?"},
      {"no errno kept", 0, Status::handshake_failed,
       "handshake failed: the network refused our packets (ICMP error?): is a QUIC server "
       "listening on that UDP port?"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    HandshakeFailure f;
    f.close = network;
    f.system_error = c.system_error;
    Outcome o = handshake_outcome(f);
    CHECK(o.status == c.status);
    CHECK(o.message == c.message);
  }
  CHECK(port_unreachable_text("127.0.0.1:9") ==
        "nothing listens on UDP 127.0.0.1:9 (ICMP port unreachable): is the QUIC server "
        "running, and on that port?");
}

TEST_CASE("core::ticket_wait: twice the handshake, 100 ms to 1 s") {
  CHECK(ticket_wait(0us) == 100ms);
  CHECK(ticket_wait(2ms) == 100ms);
  CHECK(ticket_wait(50ms) == 100ms);
  CHECK(ticket_wait(50001us) == 101ms);  // rounded up
  CHECK(ticket_wait(120ms) == 240ms);
  CHECK(ticket_wait(500ms) == 1000ms);
  CHECK(ticket_wait(3s) == 1000ms);
}

TEST_CASE("core::handshake_outcome: a server's application refusing us") {
  // An application close during the handshake arrives as a transport APPLICATION_ERROR
  // (RFC 9000 10.2.3), without its code or reason.
  HandshakeFailure f;
  CloseInfo refused;
  refused.transport = true;
  refused.code = 0xc;
  f.close = refused;
  Outcome o = handshake_outcome(f);
  CHECK(o.status == Status::handshake_failed);
  CHECK(o.message ==
        "handshake failed, closed by the peer: transport error 0xc APPLICATION_ERROR (the "
        "server's application refused the connection)");
  SUBCASE("other transport errors get no such hint") {
    f.close->code = 0xa;  // PROTOCOL_VIOLATION
    CHECK_FALSE(contains(handshake_outcome(f).message, "refused"));
  }
  SUBCASE("nor does our own APPLICATION_ERROR") {
    f.close->local = true;
    CHECK_FALSE(contains(handshake_outcome(f).message, "refused"));
  }
}
