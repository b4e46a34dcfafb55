// Files and directories named on the command line (or by SSLKEYLOGFILE and QLOGDIR), checked
// before any network activity so that a bad path is a usage error in the system's own words
// rather than a failure halfway through a run. `what` names the source in the message:
// "--cafile", "SSLKEYLOGFILE". Each returns nullopt when the path is usable, else one line:
//   cannot read --cafile 'x': Permission denied
//   cannot write --json-file '/nonexistent/x': No such file or directory
//   --qlog-dir '/tmp/f': not a directory
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace quicc::cli {

// A file we can open for reading (a directory is refused: "Is a directory").
std::optional<std::string> check_readable_file(std::string_view what, const std::string& path);

// A directory we can list and search.
std::optional<std::string> check_readable_directory(std::string_view what,
                                                    const std::string& path);

// A file we can write, whether it exists or not. Leaves no trace: an existing file is opened
// for appending and closed untouched; a missing one is created exclusively and removed again.
std::optional<std::string> check_writable_file(std::string_view what, const std::string& path);

// An existing directory we can create files in.
std::optional<std::string> check_writable_directory(std::string_view what,
                                                    const std::string& path);

}  // namespace quicc::cli
