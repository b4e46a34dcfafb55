#include "write_out.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "cli/safe_text.hpp"
#include "cli/stats.hpp"

namespace quicc::cli {

namespace {

// The variables, in the order --help lists them. A curl name stands for a summary field
// (`field`), in seconds for a time (`seconds` set: the field is in milliseconds).
struct Variable {
  WriteOutVariable doc;
  std::string_view field;  // the summary field it shows; "" for a computed one
  bool seconds = false;
};

constexpr Variable variables[] = {
    {{"time_namelookup", "seconds from the start until the name was resolved"}, "t_resolved_ms", true},
    {{"time_connect", "seconds from the start until the first Initial packet was sent"}, "t_connect_ms", true},
    {{"time_handshake", "seconds from the start until the handshake was complete"}, "t_handshake_ms", true},
    {{"time_appconnect", "the same as time_handshake (curl's name)"}, "t_handshake_ms", true},
    {{"time_starttransfer", "seconds from the start until the peer's first byte of data arrived"}, "t_first_byte_ms", true},
    {{"time_total", "seconds from the start until the end of the run"}, "duration_ms", true},
    {{"exitcode", "quicc's exit code (also exit_code)"}, "exit_code"},
    {{"errormsg", "the error message, empty on success (also error)"}, "error"},
    {{"size_download", "bytes received on the pipe (also bytes_received)"}, "bytes_received"},
    {{"size_upload", "bytes sent on the pipe (also bytes_sent)"}, "bytes_sent"},
    {{"remote_ip", "the peer's address"}, ""},
    {{"remote_port", "the peer's port"}, ""},
    {{"json", "the whole summary as one JSON object (as --json prints it)"}, ""},
    {{"connection", "the connection's number (1..N) with --count, else empty"}, "connection"},
    // The summary's own fields (--stats shows them).
    {{"status", "how the run ended, as a word (ok, verify_failed, ...)"}, "status"},
    {{"exit_code", "quicc's exit code"}, "exit_code"},
    {{"error", "the error message, empty on success"}, "error"},
    {{"peer", "the peer's address and port"}, "peer"},
    {{"duration_ms", "milliseconds from the start until the end of the run"}, "duration_ms"},
    {{"t_resolved_ms", "milliseconds from the start until the name was resolved"}, "t_resolved_ms"},
    {{"t_connect_ms", "milliseconds from the start until the first Initial was sent"}, "t_connect_ms"},
    {{"t_handshake_ms", "milliseconds from the start until the handshake was complete"}, "t_handshake_ms"},
    {{"t_first_byte_ms", "milliseconds from the start until the peer's first byte of data arrived"}, "t_first_byte_ms"},
    {{"handshake_ms", "milliseconds the handshake took"}, "handshake_ms"},
    {{"handshake_rtt_ms", "the round-trip time OpenSSL measured, in milliseconds"}, "handshake_rtt_ms"},
    {{"alpn", "the application protocol agreed"}, "alpn"},
    {{"cipher", "the TLS cipher suite"}, "cipher"},
    {{"group", "the TLS key exchange group"}, "group"},
    {{"peer_subject", "the peer certificate's subject"}, "peer_subject"},
    {{"peer_issuer", "the peer certificate's issuer"}, "peer_issuer"},
    {{"peer_not_after", "the peer certificate's expiry"}, "peer_not_after"},
    {{"verify", "the result of the peer certificate's verification"}, "verify"},
    {{"resumed", "true when the session was resumed"}, "resumed"},
    {{"key_updates", "key updates made"}, "key_updates"},
    {{"bytes_sent", "bytes sent on the pipe"}, "bytes_sent"},
    {{"bytes_received", "bytes received on the pipe"}, "bytes_received"},
    {{"bytes_unacked", "bytes sent but not acknowledged at the end"}, "bytes_unacked"},
    {{"throughput_mbit_s", "bytes in and out over the run's duration, in Mbit/s"}, "throughput_mbit_s"},
    {{"closed_by", "who closed the connection: local or peer"}, "closed_by"},
    {{"close_kind", "the close's kind: transport or application"}, "close_kind"},
    {{"close_code", "the close's error code"}, "close_code"},
    {{"close_reason", "the close's reason text"}, "close_reason"},
};

const Variable* find_variable(std::string_view name) {
  for (const auto& v : variables)
    if (v.doc.name == name) return &v;
  return nullptr;
}

const FieldValue* find_field(const std::vector<Field>& summary, std::string_view key) {
  for (const auto& f : summary)
    if (f.key == key) return &f.value;
  return nullptr;
}

struct Plain {
  std::string operator()(const std::string& s) const { return terminal_text(s); }
  std::string operator()(uint64_t n) const { return std::to_string(n); }
  std::string operator()(double d) const { return fmt::format("{:.3f}", d); }
  std::string operator()(bool b) const { return b ? "true" : "false"; }
  std::string operator()(int64_t n) const { return std::to_string(n); }
  std::string operator()(const TextList& list) const {
    std::string out;
    for (const auto& item : list.items()) out += (out.empty() ? "" : ",") + terminal_text(item);
    return out;
  }
};

std::string value_of(const Variable& v, const std::vector<Field>& summary) {
  std::string_view name = v.doc.name;
  if (name == "json") return stats_json(summary);
  if (name == "remote_ip" || name == "remote_port") {
    const FieldValue* peer = find_field(summary, "peer");
    if (!peer || !std::holds_alternative<std::string>(*peer)) return "";
    const std::string& p = std::get<std::string>(*peer);
    size_t colon = p.rfind(':');
    if (colon == std::string::npos) return name == "remote_ip" ? terminal_text(p) : "";
    std::string host = p.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    return terminal_text(name == "remote_ip" ? host : p.substr(colon + 1));
  }
  const FieldValue* f = find_field(summary, v.field);
  if (v.seconds) {
    double ms = f && std::holds_alternative<double>(*f) ? std::get<double>(*f) : 0.0;
    return fmt::format("{:.6f}", ms / 1000.0);
  }
  return f ? std::visit(Plain{}, *f) : "";
}

}  // namespace

std::span<const WriteOutVariable> write_out_variables() {
  static const std::vector<WriteOutVariable> docs = [] {
    std::vector<WriteOutVariable> d;
    for (const auto& v : variables) d.push_back(v.doc);
    return d;
  }();
  return docs;
}

std::optional<WriteOut> WriteOut::parse(std::string_view format, std::string& error) {
  WriteOut w;
  std::string text;
  auto flush = [&] {
    if (!text.empty()) w.pieces_.push_back({false, std::move(text)});
    text.clear();
  };
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    char next = i + 1 < format.size() ? format[i + 1] : '\0';
    if (c == '%' && next == '%') {
      text += '%';
      ++i;
    } else if (c == '%' && next == '{') {
      size_t end = format.find('}', i + 2);
      if (end == std::string_view::npos) {
        error = "--write-out: '%{' without a closing '}'";
        return std::nullopt;
      }
      std::string_view name = format.substr(i + 2, end - i - 2);
      if (!find_variable(name)) {
        error = "--write-out: unknown variable '" + terminal_text(name) +
                "' (time_total, time_handshake, alpn, exitcode, ...: see quicc --help)";
        return std::nullopt;
      }
      flush();
      w.pieces_.push_back({true, std::string(name)});
      i = end;
    } else if (c == '\\' && (next == 'n' || next == 'r' || next == 't' || next == '\\')) {
      text += next == 'n' ? '\n' : next == 'r' ? '\r' : next == 't' ? '\t' : '\\';
      ++i;
    } else {
      text += c;
    }
  }
  flush();
  return w;
}

std::string WriteOut::render(const std::vector<Field>& summary) const {
  std::string out;
  for (const auto& p : pieces_)
    out += p.variable ? value_of(*find_variable(p.text), summary) : p.text;
  return out;
}

}  // namespace quicc::cli
