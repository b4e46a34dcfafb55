// Which options each way of running quicc accepts: the option table's `roles` field
// (cli/options.cpp), enforced by build_config, walked by the tests, printed by the man page.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cli/options.hpp"

namespace quicc::cli {

// The three ways to run quicc.
enum class RunMode {
  client,            // HOST:PORT (pipe, or requests with --get)
  pipe_listener,     // --listen: one connection piped to stdin/stdout
  service_listener,  // --listen with --echo, --serve, --sink, --source or --perf: every stream served
};

// An option that not every mode accepts (a restricted row of the option table). Options
// without one apply to all three.
struct RoleRule {
  std::string_view option;  // long name, as option_table() spells it
  bool client;
  bool pipe_listener;
  bool service_listener;
  std::string_view why;  // completes "OPTION does not apply to MODE (WHY)"
  // When set, a listener accepts the option only together with this one.
  std::string_view listener_needs = {};

  bool allows(RunMode mode) const;
};

std::span<const RoleRule> role_rules();

// The rule for an option (long name); null when it applies to every mode.
const RoleRule* role_rule(std::string_view option);

// "a client", "a listener", "a service listener (...)", as the refusals say it.
std::string_view run_mode_name(RunMode mode);

// The options that make a listener a service listener.
inline constexpr std::string_view service_options[] = {"--echo", "--serve", "--sink", "--source",
                                                       "--perf"};

// The mode the options ask for (a listener when --listen is given).
RunMode run_mode_of(const Options& options);

// The first option given that `mode` refuses, as a one-line error:
//   --on-eof does not apply to a service listener (--echo, --serve, ...) (it has no input)
//   --cafile on a listener is used only with --require-client-cert
std::optional<std::string> role_refusal(const Options& options, RunMode mode);

}  // namespace quicc::cli
