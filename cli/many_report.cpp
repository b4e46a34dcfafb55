#include "many_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace quicc::cli {

namespace {

const FieldValue* find_field(const std::vector<Field>& fields, std::string_view key) {
  for (const auto& f : fields)
    if (f.key == key) return &f.value;
  return nullptr;
}

// Field keys are views: names made at run time (failed_<status>, <figure>_ms_<stat>) are kept
// here for the life of the process.
std::string_view keep(std::string name) {
  static std::map<std::string, int> names;
  return names.emplace(std::move(name), 0).first->first;
}

}  // namespace

std::vector<SpreadFigure> spread_figures() {
  return {{"t_resolved_ms", "dns"},
          {"t_connect_ms", "connect"},
          {"handshake_ms", "handshake"},
          {"t_first_byte_ms", "first byte"},
          {"duration_ms", "total"}};
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

std::vector<Field> aggregate(const std::vector<ConnectionResult>& results, uint64_t planned) {
  uint64_t succeeded = 0;
  std::map<std::string, uint64_t> failures;
  for (const auto& r : results) {
    if (r.status == Status::ok) ++succeeded;
    else ++failures[std::string(status_name(r.status))];
  }
  std::vector<Field> f = {{"connections", planned},
                          {"started", static_cast<uint64_t>(results.size())},
                          {"succeeded", succeeded},
                          {"failed", static_cast<uint64_t>(results.size()) - succeeded}};
  for (const auto& [name, n] : failures) f.push_back({keep("failed_" + name), n});
  for (const auto& figure : spread_figures()) {
    std::vector<double> values;
    for (const auto& r : results)
      if (const FieldValue* v = find_field(r.summary, figure.field); v && std::holds_alternative<double>(*v))
        values.push_back(std::get<double>(*v));
    if (values.empty()) continue;
    std::string base = std::string(figure.name) + "_ms_";
    f.push_back({keep(base + "min"), percentile(values, 0)});
    f.push_back({keep(base + "median"), percentile(values, 50)});
    f.push_back({keep(base + "p90"), percentile(values, 90)});
    f.push_back({keep(base + "p99"), percentile(values, 99)});
    f.push_back({keep(base + "max"), percentile(values, 100)});
  }
  return f;
}

int aggregate_exit_code(const std::vector<ConnectionResult>& results) {
  int worst = 0;
  for (const auto& r : results) {
    if (r.exit_code == 0) continue;
    if (r.exit_code > 128) return r.exit_code;
    if (worst == 0 || r.exit_code < worst) worst = r.exit_code;
  }
  return worst;
}

std::string aggregate_text(const std::vector<Field>& aggregate) {
  auto number = [&](std::string_view key) -> uint64_t {
    const FieldValue* v = find_field(aggregate, key);
    return v && std::holds_alternative<uint64_t>(*v) ? std::get<uint64_t>(*v) : 0;
  };
  std::string classes;
  for (const auto& f : aggregate) {
    if (!f.key.starts_with("failed_")) continue;
    classes += fmt::format("{}{} {}", classes.empty() ? " (" : ", ", std::get<uint64_t>(f.value),
                           f.key.substr(7));
  }
  if (!classes.empty()) classes += ")";
  std::string out = fmt::format("quicc: {} connections: {} started, {} succeeded, {} failed{}\n",
                                number("connections"), number("started"), number("succeeded"),
                                number("failed"), classes);
  for (const auto& figure : spread_figures()) {
    std::string base = std::string(figure.name) + "_ms_";
    const FieldValue* min = find_field(aggregate, keep(base + "min"));
    if (!min) continue;
    auto ms = [&](const char* stat) { return std::get<double>(*find_field(aggregate, keep(base + stat))); };
    out += fmt::format("  {:<10} min {:.3f}  median {:.3f}  p90 {:.3f}  p99 {:.3f}  max {:.3f} ms\n",
                       figure.name, ms("min"), ms("median"), ms("p90"), ms("p99"), ms("max"));
  }
  return out;
}

}  // namespace quicc::cli
