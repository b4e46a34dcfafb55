#include "stats.hpp"

#include <fmt/format.h>

namespace quicc::cli {

void StatsCollector::on_event(const Event& event) {
  last_event_ = event.since_start;
  if (auto* e = std::get_if<HandshakeDoneEvent>(&event.data)) handshake_ = *e;
  if (auto* e = std::get_if<CloseEvent>(&event.data)) close_ = *e;
  if (auto* e = std::get_if<HandshakeStartEvent>(&event.data)) {
    peer_ = e->peer;
    connect_at_ = event.since_start;  // the last address tried: the one that answered
  }
  if (std::holds_alternative<ResolvedEvent>(event.data)) resolved_at_ = event.since_start;
  if (std::holds_alternative<HandshakeDoneEvent>(event.data)) handshake_at_ = event.since_start;
  if (std::holds_alternative<FirstByteEvent>(event.data) && !first_byte_at_)
    first_byte_at_ = event.since_start;
  if (std::holds_alternative<KeyUpdateEvent>(event.data)) ++key_updates_;
  next_.on_event(event);
}

std::vector<Field> StatsCollector::summary(const Outcome& outcome, int exit_code) const {
  double duration_ms = static_cast<double>(last_event_.count()) / 1000.0;
  std::vector<Field> f = {{"status", std::string(status_name(outcome.status))},
                          {"exit_code", static_cast<uint64_t>(exit_code)}};
  if (!outcome.ok()) f.push_back({"error", outcome_text(outcome)});
  if (!peer_.empty()) f.push_back({"peer", peer_});
  f.push_back({"duration_ms", duration_ms});
  // When each phase ended, counted from the start of the run (curl's time_* figures).
  auto at = [&](std::string_view key, const std::optional<std::chrono::microseconds>& t) {
    if (t) f.push_back({key, static_cast<double>(t->count()) / 1000.0});
  };
  at("t_resolved_ms", resolved_at_);
  at("t_connect_ms", connect_at_);
  at("t_handshake_ms", handshake_at_);
  at("t_first_byte_ms", first_byte_at_);
  if (handshake_) {
    const auto& h = *handshake_;
    f.push_back({"handshake_ms", static_cast<double>(h.handshake_us) / 1000.0});
    if (h.rtt_us) f.push_back({"handshake_rtt_ms", static_cast<double>(*h.rtt_us) / 1000.0});
    f.push_back({"alpn", h.alpn});
    f.push_back({"cipher", h.cipher});
    f.push_back({"group", h.group});
    f.push_back({"peer_subject", h.peer_subject});
    f.push_back({"peer_issuer", h.peer_issuer});
    f.push_back({"peer_not_after", h.peer_not_after});
    f.push_back({"verify", h.verify_result});
    f.push_back({"resumed", h.resumed});
  }
  f.push_back({"key_updates", key_updates_});
  uint64_t in = close_ ? close_->bytes_in : 0, out = close_ ? close_->bytes_out : 0;
  f.push_back({"bytes_sent", out});
  f.push_back({"bytes_received", in});
  f.push_back({"bytes_unacked", close_ ? close_->bytes_unacked : uint64_t{0}});
  double seconds = duration_ms / 1000.0;
  f.push_back({"throughput_mbit_s",
               seconds > 0 ? static_cast<double>(in + out) * 8 / seconds / 1e6 : 0.0});
  if (close_) {
    f.push_back({"closed_by", std::string(close_->local ? "local" : "peer")});
    f.push_back({"close_kind", std::string(close_->transport ? "transport" : "application")});
    f.push_back({"close_code", close_->error_code});
    f.push_back({"close_reason", close_->reason});
  }
  return f;
}

std::string stats_text(const std::vector<Field>& fields) {
  return "quicc: statistics\n" + text_lines(fields);
}

std::string stats_json(const std::vector<Field>& fields) { return "{" + json_members(fields) + "}"; }

}  // namespace quicc::cli
