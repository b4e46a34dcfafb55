// The documented exit codes: one per core Status, listed in --help.
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
int exit_code_for(Status status);

}  // namespace quicc::cli
