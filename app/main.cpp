// quicc: parse the command line, build the engine's config, run, map the outcome to an exit
// code. Everything else lives in cli/ (options, formatting) and core/ (the engine).
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/config_builder.hpp"
#include "cli/exit_codes.hpp"
#include "cli/interrupts.hpp"
#include "cli/log_sink.hpp"
#include "cli/options.hpp"
#include "cli/stats.hpp"
#include "cli/version.hpp"
#include "core/engine.hpp"

namespace {

[[noreturn]] void exit_now(quicc::Status status) {
  std::_Exit(quicc::cli::exit_code_for(status));
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "quicc: error: %s\n", message.c_str());
  return quicc::cli::exit_code_for(quicc::Status::usage);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace quicc;

  cli::ParseResult parsed = cli::parse_command_line(argc, argv);
  if (!parsed.error.empty()) return usage_error(parsed.error);
  const cli::Options& options = parsed.options;
  if (options.help) {
    std::fputs(cli::help_text().c_str(), stdout);
    return 0;
  }
  if (options.version) {
    std::fputs(cli::version_text().c_str(), stdout);
    return 0;
  }

  std::string error;
  std::optional<Config> config = cli::build_config(options, error);
  if (!config) return usage_error(error);
  std::optional<cli::LogFormat> format = cli::parse_log_format(options.log_format, error);
  if (!format) return usage_error(error);
  std::unique_ptr<cli::LogSink> log;
  try {
    log = std::make_unique<cli::LogSink>(options.verbose, *format, options.log_file);
  } catch (const std::exception& e) {
    return usage_error("cannot open log file '" + options.log_file + "': " + e.what());
  }
  // The summary is gathered from the same events the log shows.
  cli::StatsCollector stats(*log);

  // From here on SIGINT/SIGTERM close the connection with a code instead of killing us.
  config->interrupt_fd = cli::install_interrupt_pipe();
  config->exit_now = exit_now;
  Outcome outcome = run(*config, stats);
  int exit_code = cli::exit_code_for(outcome.status);

  if (options.stats || options.json || !options.json_file.empty()) {
    auto summary = stats.summary(outcome, exit_code);
    if (options.stats) std::fputs(cli::stats_text(summary).c_str(), stderr);
    if (options.json) std::fprintf(stderr, "%s\n", cli::stats_json(summary).c_str());
    if (!options.json_file.empty()) {
      std::FILE* f = std::fopen(options.json_file.c_str(), "w");
      if (!f) return usage_error("cannot write --json-file '" + options.json_file + "'");
      std::fprintf(f, "%s\n", cli::stats_json(summary).c_str());
      std::fclose(f);
    }
  }
  return exit_code;
}
