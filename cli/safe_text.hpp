// Text that a QUIC peer controls (a CONNECTION_CLOSE reason, ALPN names, certificate names, TLS
// trace text) reaches the terminal and JSON files. These functions make any byte string safe for
// either sink: nothing a peer sends can move the cursor, recolour the terminal or break a JSON
// parser.
#pragma once

#include <string>
#include <string_view>

namespace quicc::cli {

// Whether a text sink keeps newlines (the multi-line TLS trace) or escapes them like any other
// control byte (everything that must stay on one line).
enum class Newlines { escape, keep };

// `s` for a terminal: C0 controls (0x00-0x1f), DEL (0x7f), the C1 controls U+0080..U+009F and
// every byte that is not part of well-formed UTF-8 are shown as \xNN (lowercase hex, one per
// byte); other UTF-8 is kept. A backslash is kept as it is, so the result can be ambiguous (a
// peer may send a literal "\x1b"), but it is never harmful.
std::string terminal_text(std::string_view s, Newlines newlines = Newlines::escape);

// `s` as a double-quoted terminal value: terminal_text with '"' and '\' escaped as well, so that
// inside quotes every backslash starts an escape and the value reads back without ambiguity.
std::string quoted_terminal_text(std::string_view s);

// `s` as a JSON string literal, quotes included, that is valid UTF-8 whatever `s` holds: each
// byte that is not part of well-formed UTF-8 becomes U+FFFD; control characters (C0, DEL, C1)
// become \u00XX, except for the short escapes \n, \r and \t.
std::string json_string(std::string_view s);

}  // namespace quicc::cli
