#include "safe_text.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace quicc::cli {

namespace {

// One step through a byte string: a well-formed UTF-8 sequence and its code point, or a single
// byte that cannot start or continue one.
struct Unit {
  size_t length = 1;
  bool valid = false;
  char32_t code_point = 0;
};

// Decodes strictly after Table 3-7 of the Unicode standard: overlong forms, surrogates
// (U+D800..U+DFFF) and values above U+10FFFF are not well-formed, and a sequence cut short by
// the end of the string or by a wrong continuation byte is not either. Of a sequence that is not
// well-formed only the first byte is consumed and the next ones are judged anew, so both sinks
// replace one byte at a time: the text sink's \xNN stays byte-exact, and the JSON sink gives one
// U+FFFD per byte (where Python's errors="replace" folds a cut-short 0xe2 0x82 into one).
Unit next_unit(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char lead = byte(0);
  if (lead < 0x80) return {1, true, lead};

  size_t length = 0;
  unsigned char second_min = 0x80, second_max = 0xbf;
  char32_t code_point = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code_point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code_point = lead & 0x0f;
    if (lead == 0xe0) second_min = 0xa0;  // below: overlong
    if (lead == 0xed) second_max = 0x9f;  // above: surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code_point = lead & 0x07;
    if (lead == 0xf0) second_min = 0x90;  // below: overlong
    if (lead == 0xf4) second_max = 0x8f;  // above: beyond U+10FFFF
  } else {
    return {};  // a continuation byte, or 0xc0, 0xc1, 0xf5..0xff, which never start a sequence
  }

  if (s.size() < length) return {};
  for (size_t i = 1; i < length; ++i) {
    unsigned char min = i == 1 ? second_min : 0x80, max = i == 1 ? second_max : 0xbf;
    if (byte(i) < min || byte(i) > max) return {};
    code_point = (code_point << 6) | (byte(i) & 0x3f);
  }
  return {length, true, code_point};
}

// C0, DEL and C1: the code points a terminal may act on instead of showing.
bool is_control(char32_t cp) { return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f); }

void append_hex_bytes(std::string& out, std::string_view bytes) {
  for (unsigned char c : bytes) out += fmt::format("\\x{:02x}", c);
}

std::string escape_for_terminal(std::string_view s, Newlines newlines, bool quoted) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    Unit unit = next_unit(s);
    std::string_view bytes = s.substr(0, unit.length);
    s.remove_prefix(unit.length);
    if (!unit.valid) {
      append_hex_bytes(out, bytes);
    } else if (unit.code_point == '\n' && newlines == Newlines::keep) {
      out += '\n';
    } else if (is_control(unit.code_point)) {
      // A C1 control is shown as its two UTF-8 bytes, which is what the peer actually sent.
      append_hex_bytes(out, bytes);
    } else if (quoted && (unit.code_point == '"' || unit.code_point == '\\')) {
      out += '\\';
      out += static_cast<char>(unit.code_point);
    } else {
      out += bytes;
    }
  }
  return out;
}

}  // namespace

std::string terminal_text(std::string_view s, Newlines newlines) {
  return escape_for_terminal(s, newlines, false);
}

std::string quoted_terminal_text(std::string_view s) {
  return "\"" + escape_for_terminal(s, Newlines::escape, true) + "\"";
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  out.reserve(s.size() + 2);
  while (!s.empty()) {
    Unit unit = next_unit(s);
    std::string_view bytes = s.substr(0, unit.length);
    s.remove_prefix(unit.length);
    if (!unit.valid) {
      out += "\xef\xbf\xbd";  // U+FFFD REPLACEMENT CHARACTER, one per byte that is not UTF-8
      continue;
    }
    switch (unit.code_point) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        // JSON only requires escaping C0, but JSON Lines on stderr reach a terminal too, where
        // DEL and C1 controls (U+009B is CSI) may act.
        if (is_control(unit.code_point))
          out += fmt::format("\\u{:04x}", static_cast<uint32_t>(unit.code_point));
        else
          out += bytes;
    }
  }
  return out + "\"";
}

}  // namespace quicc::cli
