// --send's DATA (cli/config_builder.cpp, parse_send_escapes): \r \n \t \\ \xNN, anything else
// after a backslash refused. Every escape is at least two bytes for one, and any byte string
// written with escapes decodes back to itself.
#include <cstdint>
#include <string>

#include "cli/config_builder.hpp"
#include "fuzz_check.hpp"

using quicc::fuzz::require;

namespace {

// Every byte as \xNN: the escape that can spell anything.
std::string as_hex_escapes(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += {'\\', 'x', digits[c >> 4], digits[c & 15]};
  return out;
}

// Only the backslashes escaped: the shortest spelling.
std::string as_plain(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    if (c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = quicc::fuzz::text_of(data, size);
  std::string error;
  auto decoded = quicc::cli::parse_send_escapes(text, error);
  if (!decoded) {
    require(error.starts_with("invalid --send '"), "a refusal names --send");
    require(text.find('\\') != std::string_view::npos, "only a backslash can be refused");
    return 0;
  }
  require(decoded->size() <= text.size(), "decoding never lengthens");
  if (text.find('\\') == std::string_view::npos) require(*decoded == text, "no backslash, no change");

  auto again = quicc::cli::parse_send_escapes(as_hex_escapes(*decoded), error);
  require(again && *again == *decoded, "\\xNN spelling decodes back to the bytes");
  again = quicc::cli::parse_send_escapes(as_plain(*decoded), error);
  require(again && *again == *decoded, "plain spelling decodes back to the bytes");
  return 0;
}
