#include "cli/perf_report.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "cli/check_report.hpp"

namespace quicc::cli {

namespace {

double seconds(std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1e6; }

// Goodput in Mbit/s (decimal, as iperf and the perf tools of other stacks print it).
double mbits(uint64_t bytes, std::chrono::microseconds span) {
  if (span.count() <= 0) return 0;
  return static_cast<double>(bytes) * 8 / static_cast<double>(span.count());
}

std::string bytes_text(uint64_t n) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  size_t u = 0;
  while (v >= 1000 && u + 1 < std::size(units)) {
    v /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[u]);
}

}  // namespace

std::string perf_text(const PerfEvent& e) {
  auto span = e.to - e.from;
  std::string line = fmt::format("[{:7.2f}-{:7.2f} s] up {} ({:.2f} Mbit/s), down {} ({:.2f} Mbit/s)",
                                 seconds(e.from), seconds(e.to), bytes_text(e.bytes_up),
                                 mbits(e.bytes_up, span), bytes_text(e.bytes_down),
                                 mbits(e.bytes_down, span));
  if (e.final)
    line += fmt::format(", {} request{} on {} stream{}", e.requests_done,
                        e.requests_done == 1 ? "" : "s", e.streams, e.streams == 1 ? "" : "s");
  return line + "\n";
}

std::string perf_json(const PerfEvent& e) {
  auto span = e.to - e.from;
  std::vector<Field> fields = {
      {"event", std::string("perf")},
      {"final", e.final},
      {"from_s", seconds(e.from)},
      {"to_s", seconds(e.to)},
      {"bytes_up", e.bytes_up},
      {"bytes_down", e.bytes_down},
      {"up_mbit_s", mbits(e.bytes_up, span)},
      {"down_mbit_s", mbits(e.bytes_down, span)},
      {"requests_done", e.requests_done},
      {"streams", e.streams},
  };
  return check_json(fields);
}

void PerfReporter::on_event(const Event& event) {
  if (auto* p = std::get_if<PerfEvent>(&event.data)) {
    std::string line = json_ ? perf_json(*p) : perf_text(*p);
    std::lock_guard lock(mutex_);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }
  next_.on_event(event);
}

}  // namespace quicc::cli
