// The documented exit codes: one per core Status (an interrupt: one per signal), listed in
// --help.
#pragma once

#include <span>
#include <string_view>

#include "core/status.hpp"

namespace quicc::cli {

struct ExitCode {
  Status status;
  int code;
  std::string_view description;
};

std::span<const ExitCode> exit_code_table();
// The exit code of a run: the Status's, and for an interrupt 128 + the signal, as shells do.
int exit_code_for(const Outcome& outcome);
int exit_code_for(Status status);

}  // namespace quicc::cli
