// --count's report: percentiles, the aggregate's fields and text, the exit code of the whole.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/many_report.hpp"

using namespace quicc;
using namespace quicc::cli;

namespace {

ConnectionResult result(uint64_t n, Status status, int code, double handshake_ms, double total_ms) {
  ConnectionResult r{n, status, code, {}};
  r.summary = {{"status", std::string(status_name(status))}, {"duration_ms", total_ms}};
  if (handshake_ms >= 0) r.summary.push_back({"handshake_ms", handshake_ms});
  return r;
}

const FieldValue* field(const std::vector<Field>& fields, std::string_view key) {
  for (const auto& f : fields)
    if (f.key == key) return &f.value;
  return nullptr;
}

}  // namespace

TEST_CASE("cli::percentile (nearest rank)") {
  struct Row {
    std::vector<double> values;
    double p;
    double expected;
  };
  const Row rows[] = {
      {{}, 50, 0},
      {{7}, 0, 7},
      {{7}, 99, 7},
      {{3, 1, 2}, 0, 1},
      {{3, 1, 2}, 50, 2},
      {{3, 1, 2}, 100, 3},
      {{1, 2, 3, 4}, 50, 2},
      {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9},
      {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
  };
  for (const Row& r : rows) {
    std::vector<double> v = r.values;
    CAPTURE(r.p);
    CHECK(percentile(v, r.p) == doctest::Approx(r.expected));
  }
}

TEST_CASE("cli::aggregate and aggregate_text") {
  std::vector<ConnectionResult> results = {
      result(1, Status::ok, 0, 10, 100),
      result(2, Status::ok, 0, 20, 200),
      result(3, Status::handshake_timeout, 4, -1, 3000),
      result(4, Status::ok, 0, 30, 300),
  };
  auto a = aggregate(results, 5);
  CHECK(std::get<uint64_t>(*field(a, "connections")) == 5);
  CHECK(std::get<uint64_t>(*field(a, "started")) == 4);
  CHECK(std::get<uint64_t>(*field(a, "succeeded")) == 3);
  CHECK(std::get<uint64_t>(*field(a, "failed")) == 1);
  CHECK(std::get<uint64_t>(*field(a, "failed_handshake_timeout")) == 1);
  // Only connections that reached a figure count in its spread.
  CHECK(std::get<double>(*field(a, "handshake_ms_min")) == doctest::Approx(10));
  CHECK(std::get<double>(*field(a, "handshake_ms_median")) == doctest::Approx(20));
  CHECK(std::get<double>(*field(a, "handshake_ms_max")) == doctest::Approx(30));
  CHECK(std::get<double>(*field(a, "total_ms_max")) == doctest::Approx(3000));
  CHECK_FALSE(field(a, "dns_ms_min"));
  std::string text = aggregate_text(a);
  CHECK(text.starts_with(
      "quicc: 5 connections: 4 started, 3 succeeded, 1 failed (1 handshake_timeout)\n"));
  CHECK(text.find("  handshake  min 10.000  median 20.000  p90 30.000  p99 30.000  max 30.000 ms\n") !=
        std::string::npos);
}

TEST_CASE("cli::aggregate_exit_code: the earliest failure, an interrupt above all") {
  struct Row {
    std::vector<int> codes;
    int expected;
  };
  const Row rows[] = {
      {{}, 0},
      {{0, 0}, 0},
      {{0, 10, 0}, 10},
      {{10, 4, 16}, 4},
      {{3, 5}, 3},
      {{0, 130, 3}, 130},
  };
  for (const Row& r : rows) {
    std::vector<ConnectionResult> results;
    uint64_t n = 0;
    for (int c : r.codes) results.push_back({++n, c ? Status::internal : Status::ok, c, {}});
    CHECK(aggregate_exit_code(results) == r.expected);
  }
}
