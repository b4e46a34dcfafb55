#include "role_rules.hpp"

namespace quicc::cli {

namespace {

constexpr std::string_view only_client_verifies =
    "a listener verifies clients only with --require-client-cert, against --cafile/--capath";
constexpr std::string_view only_clients_request = "only a client makes requests";
constexpr std::string_view only_clients_measure =
    "a perf client measures; a perf server answers what it is asked for";
constexpr std::string_view clients_close =
    "its clients end their connections, and SIGINT closes the rest with code 0x1";

constexpr RoleRule rules[] = {
    // Only a client dials, names and verifies a server, and resumes sessions with it.
    {"--sni", true, false, false, "only a client sends a server name"},
    {"--no-sni", true, false, false, "only a client sends a server name"},
    {"--connect-to", true, false, false, "only a client dials"},
    {"--pin-sha256", true, false, false, only_client_verifies},
    {"--insecure", true, false, false, only_client_verifies},
    {"--session-in", true, false, false, "only a client resumes a session"},
    {"--session-out", true, false, false, "only a client saves session tickets"},
    // Smoke tests: only a client checks a server.
    {"--check", true, false, false, "only a client checks a server's handshake"},
    {"--warn-days", true, false, false, "only a client checks the server's certificate"},
    // Only a client makes requests; a pipe listener may save the streams its client opens.
    {"--get", true, false, false, only_clients_request},
    {"--get-list", true, false, false, only_clients_request},
    {"--max-streams", true, false, false, only_clients_request},
    {"--upload", true, false, false, only_clients_measure},
    {"--download", true, false, false, only_clients_measure},
    {"--streams", true, false, false, only_clients_measure},
    {"--duration", true, false, false, only_clients_measure},
    {"--output", true, false, false, only_clients_request},
    {"--output-dir", true, true, false, "it serves streams, it saves none"},
    {"--peer-streams", true, true, false, "it serves every stream its clients open"},
    {"--count", true, false, false, "only a client makes connections"},
    {"--parallel", true, false, false, "only a client makes connections"},
    {"--interval", true, false, false, "only a client makes connections"},
    {"--retry", true, false, false, "only a client makes connections"},
    {"--retry-delay", true, false, false, "only a client makes connections"},
    {"--write-out", true, false, false, "it prints a client's figures (--stats and --json summarise any run)"},
    // Only a listener verifies clients or serves streams.
    {"--require-client-cert", false, true, true, "it makes a listener verify its clients"},
    {"--echo", false, true, true, "it needs --listen"},
    {"--serve", false, true, true, "it needs --listen"},
    {"--sink", false, true, true, "it needs --listen"},
    {"--source", false, true, true, "it needs --listen"},
    {"--keep-open", false, true, true, "it makes a listener serve many connections"},
    {"--max-conns", false, true, true, "it limits a listener's connections"},
    // A service listener reads no input and leaves the end of each connection to its client.
    {"--on-eof", true, true, false, "it has no input"},
    {"--crlf", true, true, false, "it has no input"},
    {"--interactive", true, true, false, "it has no input"},
    {"--no-interactive", true, true, false, "it has no input"},
    {"--send-only", true, true, false, "it has no input"},
    {"--recv-only", true, true, false, "it has no input"},
    {"--progress", true, true, false, "it serves many streams; --stats and SIGUSR1 tell its figures"},
    {"--no-progress", true, true, false, "it serves many streams; --stats and SIGUSR1 tell its figures"},
    {"--shutdown", true, true, false, clients_close},
    {"--no-stream-flush", true, true, false, clients_close},
    {"--wait-peer", true, true, false, clients_close},
    {"--close-code", true, true, false, clients_close},
    {"--close-reason", true, true, false, clients_close},
    // Scripted checks replace the pipe's input and judge its output: a client's or a pipe
    // listener's (ncat-like); a service listener has neither.
    {"--send", true, true, false, "it serves its clients' streams, it has no input"},
    {"--send-file", true, true, false, "it serves its clients' streams, it has no input"},
    {"--expect", true, true, false, "it serves its clients' streams, it checks none"},
    {"--expect-close", true, true, false, "it serves its clients' streams, it checks none"},
    // A listener trusts CAs only to verify client certificates.
    {"--cafile", true, true, true, "", "--require-client-cert"},
    {"--capath", true, true, true, "", "--require-client-cert"},
};

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

std::span<const RoleRule> role_rules() { return rules; }

const RoleRule* role_rule(std::string_view option) {
  for (const auto& rule : rules)
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
  for (const auto& rule : rules) {
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
