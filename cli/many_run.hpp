// --count N: the connections of core's run_many, each reported as it ends (its --json object
// with its number, its -w line), then the aggregate (many_report.hpp) on stderr, and the exit
// code of the whole.
#pragma once

#include <optional>
#include <string>

#include "cli/log_sink.hpp"
#include "cli/write_out.hpp"
#include "core/config.hpp"
#include "core/many.hpp"

namespace quicc::cli {

struct ManyReporting {
  bool json = false;       // --json: each connection's summary and the aggregate, on stderr
  std::string json_file;   // --json-file: the same lines appended to FILE ("-": stdout)
  const WriteOut* write_out = nullptr;  // -w: once per connection, on stdout
};

// Runs the plan with every connection's events stamped with its number on their way to `log`;
// returns the exit code.
int run_count(const Config& config, const ManyPlan& plan, EventSink& log,
              const ManyReporting& reporting);

}  // namespace quicc::cli
