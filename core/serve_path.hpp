// `--serve DIR`: the HTTP/0.9 request a client sends on a stream ("GET /PATH"), and the file
// it names, opened only if it lies inside DIR. Pure parsing and one open; no QUIC.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "net.hpp"

namespace quicc {

// The longest request line accepted (a longer one is refused, as a client that never ends it).
inline constexpr size_t max_request_size = 4096;

// The request line has ended: it holds "\r\n" (or "\n"), or the client sent its FIN.
bool request_complete(std::string_view received, bool fin);

// The PATH of "GET /PATH", without the slash; a trailing " HTTP/..." and the line end are
// ignored. Empty with `error` set for anything else.
std::optional<std::string> parse_get_request(std::string_view received, std::string& error);

// Opens PATH (from parse_get_request) for reading, if it names a regular file inside `root`:
// no ".." component, no absolute path ("GET //etc/passwd"), and no symbolic link that leads
// out of `root` (the file's real path must start with root's). An invalid descriptor with
// `error` ("refused: ..." or the system's words for a missing file) otherwise.
UniqueFd open_served_file(const std::string& root, const std::string& path, std::string& error);

}  // namespace quicc
