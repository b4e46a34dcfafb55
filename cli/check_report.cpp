#include "check_report.hpp"

#include <fmt/format.h>

#include "cli/safe_text.hpp"

namespace quicc::cli {

namespace {

double ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

std::string trust_text(Trust trust, const std::string& verify_result) {
  switch (trust) {
    case Trust::verified: return verify_result;
    case Trust::pinned: return "pinned (--pin-sha256)";
    case Trust::none: return "not verified (--insecure)";
  }
  return verify_result;
}

struct CheckValue {
  std::string operator()(const std::string& s) const { return terminal_text(s); }
  std::string operator()(uint64_t v) const { return std::to_string(v); }
  std::string operator()(int64_t v) const { return std::to_string(v); }
  std::string operator()(double v) const { return fmt::format("{:.3f}", v); }
  std::string operator()(bool v) const { return v ? "yes" : "no"; }
  std::string operator()(const TextList& list) const {
    std::string out;
    for (const auto& s : list.items()) out += (out.empty() ? "" : ", ") + terminal_text(s);
    return out;
  }
};

}  // namespace

void CheckCollector::on_event(const Event& event) {
  if (auto* e = std::get_if<HandshakeStartEvent>(&event.data)) facts_.peer = e->peer;
  if (auto* e = std::get_if<HandshakeDoneEvent>(&event.data)) facts_.handshake = *e;
  if (auto* e = std::get_if<PeerCertificateEvent>(&event.data)) facts_.certificate = e->certificate;
  if (auto* e = std::get_if<SessionTicketEvent>(&event.data)) {
    ++facts_.tickets;
    if (!e->saved_to.empty()) facts_.ticket_saved_to = e->saved_to;
  }
  if (auto* e = std::get_if<CloseEvent>(&event.data)) facts_.close = *e;
  next_.on_event(event);
}

std::vector<Field> check_fields(const CheckFacts& facts, Trust trust, const Outcome& outcome,
                                int exit_code) {
  std::vector<Field> f = {{"status", std::string(status_name(outcome.status))},
                          {"exit_code", static_cast<uint64_t>(exit_code)}};
  if (!outcome.ok()) f.push_back({"error", outcome.message});
  if (!facts.peer.empty()) f.push_back({"peer", facts.peer});
  if (const auto& h = facts.handshake) {
    f.push_back({"alpn", h->alpn});
    f.push_back({"tls_version", h->tls_version});
    f.push_back({"cipher", h->cipher});
    f.push_back({"group", h->group});
  }
  if (const auto& c = facts.certificate) {
    f.push_back({"cert_subject", c->subject});
    f.push_back({"cert_issuer", c->issuer});
    f.push_back({"cert_names", TextList(c->names)});
    f.push_back({"cert_not_before", iso8601_utc(c->not_before)});
    f.push_back({"cert_not_after", iso8601_utc(c->not_after)});
    f.push_back({"cert_days_left", c->days_left});
    f.push_back({"cert_sha256", c->sha256});
  }
  if (const auto& h = facts.handshake) {
    f.push_back({"verify", trust_text(trust, h->verify_result)});
    f.push_back({"handshake_ms", ms(h->handshake_us)});
    // OpenSSL's measure (SSL_get_handshake_rtt): from our ClientHello to the server's Finished,
    // the server's processing included. 3.5 exposes no QUIC RTT estimate.
    if (h->rtt_us) f.push_back({"handshake_rtt_ms", ms(*h->rtt_us)});
    f.push_back({"session_offered", h->session_offered});
    f.push_back({"session_resumed", h->resumed});
    f.push_back({"session_tickets", uint64_t{facts.tickets}});
    if (!facts.ticket_saved_to.empty()) f.push_back({"session_saved_to", facts.ticket_saved_to});
  }
  if (const auto& c = facts.close) {
    f.push_back({"closed_by", std::string(c->local ? "local" : "peer")});
    f.push_back({"close_kind", std::string(c->transport ? "transport" : "application")});
    f.push_back({"close_code", c->error_code});
    if (!c->reason.empty()) f.push_back({"close_reason", c->reason});
  }
  return f;
}

std::string check_text(const std::vector<Field>& fields) {
  std::string out;
  for (const auto& f : fields) out += fmt::format("{}: {}\n", f.key, std::visit(CheckValue{}, f.value));
  return out;
}

std::string check_json(const std::vector<Field>& fields) {
  return "{" + json_members(fields) + "}\n";
}

}  // namespace quicc::cli
