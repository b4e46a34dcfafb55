// The end-of-run summary (--stats, --json, --json-file): collected from the engine's events on
// their way to the log, so the engine needs no extra reporting path.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "cli/log_sink.hpp"
#include "core/events.hpp"

namespace quicc::cli {

class StatsCollector : public EventSink {
 public:
  explicit StatsCollector(EventSink& next) : next_(next) {}

  void on_event(const Event& event) override;
  bool wants_ticks() const override { return next_.wants_ticks(); }
  bool wants_trace() const override { return next_.wants_trace(); }

  // The summary of the run that ended with `outcome` and `exit_code`.
  std::vector<Field> summary(const Outcome& outcome, int exit_code) const;

 private:
  EventSink& next_;
  std::optional<HandshakeDoneEvent> handshake_;
  std::optional<CloseEvent> close_;
  std::chrono::microseconds last_event_{0};
  uint64_t key_updates_ = 0;
  std::string peer_;
  std::optional<std::chrono::microseconds> resolved_at_, connect_at_, handshake_at_, first_byte_at_;
};

// The summary carries text the peer chose (close reason, certificate names, the error message
// that quotes the reason); both forms escape it as the log does, through text_lines and
// json_members.

// "quicc: statistics" followed by one "key: value" line per field.
std::string stats_text(const std::vector<Field>& fields);
// One JSON object on one line.
std::string stats_json(const std::vector<Field>& fields);

}  // namespace quicc::cli
