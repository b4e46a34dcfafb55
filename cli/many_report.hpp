// What --count reports: each connection's summary (the --json object of a single run, with its
// number), and at the end the aggregate: how many succeeded, the failures by class, and the
// spread (min, median, p90, p99, max) of each figure. And the exit code of the whole.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/log_sink.hpp"
#include "core/status.hpp"

namespace quicc::cli {

struct ConnectionResult {
  uint64_t number = 0;
  Status status = Status::ok;
  int exit_code = 0;
  std::vector<Field> summary;  // StatsCollector::summary of the connection
};

// The figures whose spread the aggregate shows: the summary field, and its name there.
struct SpreadFigure {
  std::string_view field;  // a summary field, in milliseconds
  std::string_view name;   // "dns", "connect", "handshake", "total"
};
std::vector<SpreadFigure> spread_figures();

// The aggregate as fields: connections, succeeded, failed, failed_<status> per class,
// <name>_ms_{min,median,p90,p99,max} per figure that any connection reached.
std::vector<Field> aggregate(const std::vector<ConnectionResult>& results, uint64_t planned);

// The nearest-rank percentile `p` (0..100) of `values`, which it sorts; 0 when empty.
double percentile(std::vector<double>& values, double p);

// The exit code of the whole: 0 when every connection succeeded; an interrupt's code if any;
// else the failure met earliest in a connection's life (the lowest code: cannot resolve 3
// before handshake failures 4-7 before transfer failures 8-16), so one code says how far the
// worst connection got.
int aggregate_exit_code(const std::vector<ConnectionResult>& results);

// The aggregate for people: one line of counts, one line per figure.
std::string aggregate_text(const std::vector<Field>& aggregate);

}  // namespace quicc::cli
