// A perf client's report (quicc --perf HOST:PORT): each PerfEvent the engine emits, one line on
// stdout as it comes, as iperf prints its intervals: goodput up and down for each second, then
// the whole run's. With --json, one JSON object per line instead. A perf client has no data to
// write to stdout, so its report is its output.
#pragma once

#include <mutex>
#include <string>

#include "cli/log_sink.hpp"
#include "core/events.hpp"

namespace quicc::cli {

// One report line (newline included): "[  1.00-  2.00 s] up 0 B (0.00 Mbit/s), down 117.4 MB
// (939.18 Mbit/s)", and for the final one ", 1 request on 1 stream".
std::string perf_text(const PerfEvent& e);
// The same as one JSON object on one line.
std::string perf_json(const PerfEvent& e);

class PerfReporter : public EventSink {
 public:
  PerfReporter(EventSink& next, bool json) : next_(next), json_(json) {}

  void on_event(const Event& event) override;
  bool wants_ticks() const override { return next_.wants_ticks(); }
  bool wants_trace() const override { return next_.wants_trace(); }

 private:
  EventSink& next_;
  bool json_;
  std::mutex mutex_;
};

}  // namespace quicc::cli
