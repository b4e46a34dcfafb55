// The one place that turns command-line Options into the engine's Config (ninja's Options vs
// BuildConfig): every check of a value's meaning happens here.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/log_sink.hpp"
#include "cli/options.hpp"
#include "core/config.hpp"

namespace quicc::cli {

// "250ms", "3s", "2m", "1.5" (seconds, as curl). Empty optional and `error` set when invalid.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error);

// "a,b" -> {"a","b"}; every protocol 1..255 bytes.
std::optional<std::vector<std::string>> parse_alpn_list(std::string_view text, std::string& error);

// 32 hex bytes, colons optional -> 64 lowercase hex digits.
std::optional<std::string> parse_pin(std::string_view text, std::string& error);

// A QUIC application error code: decimal or 0x hex, below 2^62.
std::optional<uint64_t> parse_error_code(std::string_view text, std::string& error);

// "1500", "64K", "10M", "1G" (powers of 1024).
std::optional<uint64_t> parse_size(std::string_view text, std::string& error);

// A request path as --get takes it: "x", "/x", "/dir/x" -> "/x", "/dir/x". No whitespace or
// control bytes (they would end the request line), at most 1024 bytes.
std::optional<std::string> parse_request_path(std::string_view text, std::string& error);

// The file name a response is saved as: the path's last component. None for "/", "/dir/",
// "/..", "/." (they name no file, or one outside the directory).
std::optional<std::string> response_file_name(std::string_view path, std::string& error);

// "text" or "json".
std::optional<LogFormat> parse_log_format(std::string_view text, std::string& error);

// --send's DATA with its escapes decoded: \r \n \t \\ and \xNN (two hex digits); any other
// backslash is an error naming the escape.
std::optional<std::string> parse_send_escapes(std::string_view text, std::string& error);

// Opens the --send-file parts of `config` (InputPart::fd) for reading, before the network: a
// FIFO waits here for its writer, as `cat` would. They stay open until the process exits.
std::optional<std::string> open_send_files(Config& config);

// Validates options and builds the Config. On failure returns nullopt and a one-line error.
std::optional<Config> build_config(const Options& options, std::string& error);

}  // namespace quicc::cli
