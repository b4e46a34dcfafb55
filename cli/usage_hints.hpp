// What a usage error says when the command line is not what quicc expects, beyond naming the
// problem: the option closest to a mistyped one ("did you mean --alpn?"), and the HOST:PORT form
// for a target written as a URL or as two words. Pure functions of the text, over the option
// table's long names.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace quicc::cli {

// Of `names` (long options, "--alpn"), what `typed` most likely meant: the names it is a
// prefix of, if at most three ("--max-con", "--ipv"), else the nearest by edit distance (a
// letter added, dropped, changed, or two neighbours swapped) if near enough for its length (1
// edit up to 4 letters after the dashes, 2 up to 8, 3 beyond); several at most three apart as
// "--a or --b"; nullopt if none.
std::optional<std::string> closest_option(std::string_view typed, std::span<const std::string_view> names);

// The usage error for `extras`, the arguments the parser did not expect, in order (an unknown
// option, or a word after the target); `target` is the target as parsed ("" if none).
std::string unexpected_arguments_error(std::span<const std::string> extras, std::string_view target,
                                       std::span<const std::string_view> names);

// For a target written as a URL ("https://example.org:4433/x", "quic://[::1]:4433"): the error
// that names the HOST:PORT to give instead; nullopt if `target` is not a URL.
std::optional<std::string> url_target_error(std::string_view target);

}  // namespace quicc::cli
