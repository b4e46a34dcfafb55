// The reference documents generated from the option table (cli/options.cpp), the role rules,
// the exit-code table and the event log's own record of each event: the man page and the
// bash, zsh and fish completions. app/quicc_docs.cpp writes them to man/ and completions/;
// tests/docs_drift.sh fails when the committed files differ from what the table gives.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace quicc::cli {

// One event of the -v log (cli/log_sink.cpp), for the man page's EVENT LOG section.
struct EventDoc {
  std::string_view name;     // as the log writes it: "handshake_done"
  std::string_view shown;    // when: "-v", "-vv", "-vvv", "always"
  std::string_view meaning;  // one sentence
  // Its fields, "name=meaning" separated by '|'.
  std::string_view fields;
};

std::span<const EventDoc> event_docs();

std::string man_page();
std::string bash_completion();
std::string zsh_completion();
std::string fish_completion();

// The fixed choices an option's argument completes to (OptionSpec::values; --help's topics),
// space-separated; empty when any text goes.
std::string completion_values(std::string_view long_name);

}  // namespace quicc::cli
