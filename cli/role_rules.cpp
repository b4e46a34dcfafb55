#include "role_rules.hpp"

#include <vector>

namespace quicc::cli {

namespace {

// The restricted rows of the option table, in its order.
std::vector<RoleRule> build_rules() {
  std::vector<RoleRule> rules;
  for (const auto& spec : option_table()) {
    if (!spec.roles.restricted()) continue;
    const Roles& r = spec.roles;
    rules.push_back({long_name(spec), r.client, r.pipe_listener, r.service_listener, r.why,
                     r.listener_needs});
  }
  return rules;
}

const std::vector<RoleRule>& rules_table() {
  static const std::vector<RoleRule> rules = build_rules();
  return rules;
}

bool is_listener(RunMode mode) { return mode != RunMode::client; }

}  // namespace

bool RoleRule::allows(RunMode mode) const {
  switch (mode) {
    case RunMode::client: return client;
    case RunMode::pipe_listener: return pipe_listener;
    case RunMode::service_listener: return service_listener;
  }
  return false;
}

std::span<const RoleRule> role_rules() { return rules_table(); }

const RoleRule* role_rule(std::string_view option) {
  for (const auto& rule : rules_table())
    if (rule.option == option) return &rule;
  return nullptr;
}

std::string_view run_mode_name(RunMode mode) {
  switch (mode) {
    case RunMode::client: return "a client";
    case RunMode::pipe_listener: return "a pipe listener";
    case RunMode::service_listener:
      return "a service listener (--echo, --serve, --sink, --source, --perf)";
  }
  return "";
}

RunMode run_mode_of(const Options& options) {
  if (!was_given(options, "--listen")) return RunMode::client;
  for (std::string_view service : service_options)
    if (was_given(options, service)) return RunMode::service_listener;
  return RunMode::pipe_listener;
}

std::optional<std::string> role_refusal(const Options& options, RunMode mode) {
  for (const auto& rule : rules_table()) {
    if (!was_given(options, rule.option)) continue;
    std::string option(rule.option);
    if (!rule.allows(mode)) {
      // Refused by both kinds of listener: say "a listener", not the one kind this run is.
      std::string_view who = is_listener(mode) && !rule.pipe_listener && !rule.service_listener
                                 ? "a listener"
                                 : run_mode_name(mode);
      return option + " does not apply to " + std::string(who) + " (" + std::string(rule.why) +
             ")";
    }
    if (is_listener(mode) && !rule.listener_needs.empty() &&
        !was_given(options, rule.listener_needs))
      return option + " on a listener is used only with " + std::string(rule.listener_needs);
  }
  return std::nullopt;
}

}  // namespace quicc::cli
