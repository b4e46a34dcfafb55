// ARCHITECTURE.md's "Options by role" table against the code (cli::role_rules and
// cli::option_table): the documentation and the rules cannot drift apart, as curl's tests keep
// its generated docs and its option table together.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "cli/role_rules.hpp"

#ifndef QUICC_SOURCE_DIR
#error "QUICC_SOURCE_DIR must name the source tree (tests/CMakeLists.txt defines it)"
#endif

using namespace quicc;

namespace {

const char* const section_title = "## Options by role";

// The options that choose the column instead of having a row.
const std::set<std::string> column_choosers = {"--listen", "--echo", "--serve", "--sink",
                                                "--source", "--perf"};

const cli::RunMode modes[] = {cli::RunMode::client, cli::RunMode::pipe_listener,
                              cli::RunMode::service_listener};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// "| a | b |" -> {"a", "b"}.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string inner = trim(line);
  inner = inner.substr(1, inner.size() - 2);  // the outer pipes
  std::stringstream in(inner);
  std::string cell;
  while (std::getline(in, cell, '|')) out.push_back(trim(cell));
  return out;
}

struct DocTable {
  std::vector<std::string> header;
  std::map<std::string, std::vector<std::string>> rows;  // long option -> the three cells
  std::vector<std::string> duplicates;
  std::vector<std::string> malformed;
};

// The table of the section, read from ARCHITECTURE.md.
DocTable read_doc_table() {
  std::ifstream in(QUICC_SOURCE_DIR "/ARCHITECTURE.md");
  REQUIRE_MESSAGE(in, "cannot read " QUICC_SOURCE_DIR "/ARCHITECTURE.md");
  DocTable table;
  bool in_section = false;
  const std::regex long_option("`(--[a-z0-9-]+)`");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("## ")) {
      in_section = line == section_title;
      continue;
    }
    if (!in_section || !line.starts_with("|")) continue;
    std::vector<std::string> row = cells(line);
    if (table.header.empty()) {
      table.header = row;
      continue;
    }
    if (!row.empty() && row[0].starts_with("---")) continue;  // the separator line
    std::smatch m;
    if (row.size() != 4 || !std::regex_search(row[0], m, long_option)) {
      table.malformed.push_back(line);
      continue;
    }
    std::string option = m[1];
    if (table.rows.contains(option)) table.duplicates.push_back(option);
    table.rows[option] = {row[1], row[2], row[3]};
  }
  return table;
}

// The cell the code implies for `option` in `mode`.
std::string expected_cell(const std::string& option, cli::RunMode mode) {
  const cli::RoleRule* rule = cli::role_rule(option);
  if (!rule) return "honoured";
  if (!rule->allows(mode)) return "refused";
  if (mode != cli::RunMode::client && !rule->listener_needs.empty())
    return "honoured with `" + std::string(rule->listener_needs) + "`";
  return "honoured";
}

}  // namespace

TEST_CASE("ARCHITECTURE.md: the options-by-role table is the code's") {
  DocTable doc = read_doc_table();
  REQUIRE_MESSAGE(!doc.header.empty(), "no table under '" << section_title << "'");
  CHECK(doc.header ==
        std::vector<std::string>{"option", "client", "pipe listener", "service listener"});
  CHECK_MESSAGE(doc.malformed.empty(), "rows that are not '| `--option` | cell | cell | cell |': "
                                           << (doc.malformed.empty() ? "" : doc.malformed[0]));
  CHECK_MESSAGE(doc.duplicates.empty(),
                "options listed twice: " << (doc.duplicates.empty() ? "" : doc.duplicates[0]));

  // Every option of the table in options.cpp has a row, except those that choose the column.
  std::set<std::string> options;
  for (const auto& spec : cli::option_table()) {
    std::string name(cli::long_name(spec));
    options.insert(name);
    if (column_choosers.contains(name)) {
      CHECK_MESSAGE(!doc.rows.contains(name), name << " chooses the column; it has no row");
      continue;
    }
    CHECK_MESSAGE(doc.rows.contains(name), "ARCHITECTURE.md has no row for " << name);
  }
  for (const auto& [name, row] : doc.rows)
    CHECK_MESSAGE(options.contains(name), "ARCHITECTURE.md has a row for " << name
                                              << ", which is not an option");

  // Every cell says what role_rules() decides.
  for (const auto& [name, row] : doc.rows) {
    if (!options.contains(name)) continue;
    for (size_t i = 0; i < 3; ++i) {
      CAPTURE(name);
      CAPTURE(cli::run_mode_name(modes[i]));
      CHECK(row[i] == expected_cell(name, modes[i]));
    }
  }

  // Each rule names an option the table knows; the column choosers are refused by a client as
  // the prose says (--echo needs --listen).
  for (const auto& rule : cli::role_rules()) CHECK(options.contains(std::string(rule.option)));
  const cli::RoleRule* echo = cli::role_rule("--echo");
  REQUIRE(echo);
  CHECK_FALSE(echo->allows(cli::RunMode::client));
}
