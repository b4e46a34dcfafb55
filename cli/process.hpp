// Process hygiene, done once at start-up before anything opens a file.
#pragma once

#include <string>

namespace quicc::cli {

struct StandardFds {
  bool input_closed = false;
  bool output_closed = false;
  bool error_closed = false;
};

// Opens /dev/null on whichever of descriptors 0, 1 and 2 is closed (as curl's main_checkfds):
// a closed one would be taken by the next open(), our interrupt pipe or a socket say, and data
// or logs would go there. Says which were closed, so that a closed stdout is treated as one.
StandardFds ensure_standard_fds();

// Appends `line` and a newline to the --json-file `path` ("-": stdout), so that runs and
// connections add up to JSON Lines; on failure `error` says why (strerror).
bool append_json_line(const std::string& path, const std::string& line, std::string& error);

// A reader that goes away must show up as an error code (EPIPE), not kill the process.
void ignore_sigpipe();

}  // namespace quicc::cli
