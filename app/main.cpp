// quicc: parse the command line, build the engine's config, run, map the outcome to an exit
// code. Everything else lives in cli/ (options, formatting) and core/ (the engine).
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/check_report.hpp"
#include "cli/config_builder.hpp"
#include "cli/exit_codes.hpp"
#include "cli/interrupts.hpp"
#include "cli/log_sink.hpp"
#include "cli/many_run.hpp"
#include "cli/options.hpp"
#include "cli/perf_report.hpp"
#include "cli/process.hpp"
#include "cli/stats.hpp"
#include "cli/version.hpp"
#include "cli/write_out.hpp"
#include "core/engine.hpp"

namespace {

int usage_error(const std::string& message) {
  std::fprintf(stderr, "quicc: error: %s\n", message.c_str());
  return quicc::cli::exit_code_for(quicc::Status::usage);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace quicc;

  // Before anything opens a file: closed standard descriptors would be reused under us.
  cli::StandardFds fds = cli::ensure_standard_fds();
  cli::ignore_sigpipe();

  cli::ParseResult parsed = cli::parse_command_line(argc, argv);
  if (!parsed.error.empty()) return usage_error(parsed.error);
  const cli::Options& options = parsed.options;
  if (options.given.contains("--help")) {
    std::optional<std::string> help = cli::help_text(options.help);
    if (!help) return usage_error(cli::unknown_help_topic(options.help));
    std::fputs(help->c_str(), stdout);
    return 0;
  }
  if (options.version) {
    std::fputs(cli::version_text().c_str(), stdout);
    return 0;
  }

  // Every check that can be made before the network is made here (exit 2).
  std::string error;
  std::optional<Config> config = cli::build_config(options, error);
  if (!config) return usage_error(error);
  if (auto problem = cli::open_send_files(*config)) return usage_error(*problem);
  std::optional<cli::LogFormat> format = cli::parse_log_format(options.log_format, error);
  if (!format) return usage_error(error);
  std::optional<cli::WriteOut> write_out;
  if (!options.write_out.empty() && !(write_out = cli::WriteOut::parse(options.write_out, error)))
    return usage_error(error);
  std::unique_ptr<cli::LogSink> log;
  try {
    log = std::make_unique<cli::LogSink>(options.verbose, *format, options.log_file);
  } catch (const std::exception& e) {
    return usage_error("cannot open log file '" + options.log_file + "': " + e.what());
  }
  // A stdout that was closed when we started is an output whose reader is gone.
  if (fds.output_closed && config->output_fd == 1) config->output_fd = -1;
  // The summary and --check's report are gathered from the same events the log shows.
  cli::StatsCollector stats(*log);
  cli::CheckCollector check(stats);
  // A perf client's report is its output, on stdout as it comes.
  cli::PerfReporter perf(check, options.json);
  EventSink& sink = config->perf_client ? static_cast<EventSink&>(perf) : check;

  // From here on SIGINT, SIGTERM and SIGHUP close the connection instead of killing us.
  config->interrupts = cli::install_interrupt_handlers();
  if (config->count > 1) {
    cli::ManyReporting reporting{options.json, options.json_file, write_out ? &*write_out : nullptr};
    int code = cli::run_count(*config, {config->count, config->parallel, config->interval},
                              *log, reporting);
    std::fflush(nullptr);
    if (threads_left_behind()) std::_Exit(code);
    return code;
  }
  Outcome outcome = run(*config, sink);
  log->clear_progress();
  int exit_code = cli::exit_code_for(outcome);

  // --check's report is the run's output, on stdout, whatever the outcome; with --json it is
  // the JSON object, and takes the place of the summary on stderr.
  bool json_summary = options.json && !options.check;
  if (options.check) {
    cli::Trust trust = config->insecure             ? cli::Trust::none
                       : !config->pin_sha256.empty() ? cli::Trust::pinned
                                                     : cli::Trust::verified;
    auto fields = cli::check_fields(check.facts(), trust, outcome, exit_code);
    std::fputs((options.json ? cli::check_json(fields) : cli::check_text(fields)).c_str(), stdout);
  }
  if (options.stats || json_summary || !options.json_file.empty() || write_out) {
    auto summary = stats.summary(outcome, exit_code);
    if (options.stats) std::fputs(cli::stats_text(summary).c_str(), stderr);
    if (json_summary) std::fprintf(stderr, "%s\n", cli::stats_json(summary).c_str());
    // Checked before the run; a file that became unwritable since costs the summary, not the
    // transfer's exit code.
    if (!options.json_file.empty() && !cli::append_json_line(options.json_file, cli::stats_json(summary), error))
      std::fprintf(stderr, "quicc: warning: %s\n", error.c_str());
    // After the data, as curl does; an output that is gone gets nothing.
    if (write_out && config->output_fd >= 0) {
      std::string text = write_out->render(summary);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
  }
  if (threads_left_behind()) {
    // A thread still inside OpenSSL: no exit handlers (see threads_left_behind).
    log.reset();
    std::fflush(nullptr);
    std::_Exit(exit_code);
  }
  return exit_code;
}
