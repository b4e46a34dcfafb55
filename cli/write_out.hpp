// -w/--write-out FORMAT, as curl's: after the run, FORMAT is printed on stdout (after the data)
// with its variables replaced by the run's figures:
//   %{name}        a variable (write_out_variables(): the summary's fields under their own
//                  names, and curl's names where curl has one: time_total, exitcode, ...)
//   %%             a percent sign
//   \n \r \t \\    newline, carriage return, tab, backslash
// Any other '%' or '\' is kept as it is, as curl does. An unknown variable is a usage error,
// found before any network activity. Text the peer chose (a close reason, certificate names)
// is escaped as on the terminal.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/log_sink.hpp"

namespace quicc::cli {

struct WriteOutVariable {
  std::string_view name;
  std::string_view help;
};

// Every variable -w knows, for the checks, --help and the man page.
std::span<const WriteOutVariable> write_out_variables();

class WriteOut {
 public:
  // The parsed FORMAT; nullopt with `error` naming the problem.
  static std::optional<WriteOut> parse(std::string_view format, std::string& error);
  // FORMAT with every variable replaced by its value in `summary` (StatsCollector::summary):
  // a figure the run did not reach (no handshake, say) is empty, a time is 0.000000.
  std::string render(const std::vector<Field>& summary) const;

 private:
  struct Piece {
    bool variable = false;
    std::string text;  // literal text, or the variable's name
  };
  std::vector<Piece> pieces_;
};

}  // namespace quicc::cli
