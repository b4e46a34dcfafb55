// Shows engine events on stderr: errors and the listener's address and fingerprint always,
// milestones at -v, every event-loop turn at -vv.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>

#include "core/events.hpp"

namespace quicc::cli {

// One line of text for an event, without the time prefix.
std::string describe_event(const EventData& data);

class LogSink : public EventSink {
 public:
  explicit LogSink(int verbosity);
  void on_event(const Event& event) override;
  bool wants_ticks() const override { return verbosity_ >= 2; }

 private:
  int verbosity_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace quicc::cli
