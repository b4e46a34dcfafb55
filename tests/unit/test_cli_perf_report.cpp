#include <doctest/doctest.h>

#include "cli/perf_report.hpp"

using namespace quicc;
using namespace std::chrono_literals;

TEST_CASE("cli::perf_text and perf_json: a second's goodput, and the run's") {
  PerfEvent second{false, 1s, 2s, 0, 125'000'000, 3, 2};
  CHECK(cli::perf_text(second) ==
        "[   1.00-   2.00 s] up 0 B (0.00 Mbit/s), down 125.0 MB (1000.00 Mbit/s)\n");
  CHECK(cli::perf_json(second) ==
        "{\"event\":\"perf\",\"final\":false,\"from_s\":1.000,\"to_s\":2.000,\"bytes_up\":0,"
        "\"bytes_down\":125000000,\"up_mbit_s\":0.000,\"down_mbit_s\":1000.000,"
        "\"requests_done\":3,\"streams\":2}\n");
  PerfEvent run{true, 0s, 4000ms, 500, 1'000'000, 1, 1};
  CHECK(cli::perf_text(run) ==
        "[   0.00-   4.00 s] up 500 B (0.00 Mbit/s), down 1.0 MB (2.00 Mbit/s), 1 request on 1 "
        "stream\n");
  // An empty span (a run that ended at once) divides by nothing.
  PerfEvent instant{true, 0s, 0s, 10, 10, 0, 1};
  CHECK(cli::perf_text(instant).find("(0.00 Mbit/s)") != std::string::npos);
}
