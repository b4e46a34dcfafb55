#include "endpoint.hpp"

#include <charconv>

namespace quicc {

namespace {

std::optional<uint16_t> parse_port(std::string_view text, bool allow_zero, std::string& error) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty()) {
    error = "missing port";
    return std::nullopt;
  }
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    if (ec == std::errc::result_out_of_range) {
      error = "port '" + std::string(text) + "' is out of range (1-65535)";
    } else {
      error = "port '" + std::string(text) + "' is not a number";
    }
    return std::nullopt;
  }
  if (value > 65535 || (value == 0 && !allow_zero)) {
    error = "port " + std::string(text) + " is out of range (" + (allow_zero ? "0" : "1") +
            "-65535)";
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

// Splits host and port; host keeps no brackets. Empty host is allowed here and judged later.
std::optional<Endpoint> split(std::string_view text, bool allow_zero, std::string& error) {
  Endpoint ep;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      error = "unbalanced '[' in '" + std::string(text) + "'";
      return std::nullopt;
    }
    ep.host = std::string(text.substr(1, close - 1));
    ep.bracketed = true;
    auto rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      error = "missing ':PORT' after ']' in '" + std::string(text) + "'";
      return std::nullopt;
    }
    port_text = rest.substr(1);
    if (ep.host.empty()) {
      error = "empty address between '[' and ']'";
      return std::nullopt;
    }
  } else {
    if (text.find(']') != std::string_view::npos) {
      error = "unbalanced ']' in '" + std::string(text) + "'";
      return std::nullopt;
    }
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      error = "missing ':PORT' in '" + std::string(text) + "'";
      return std::nullopt;
    }
    if (text.find(':') != colon) {
      error = "IPv6 address '" + std::string(text.substr(0, colon)) +
              "' must be written in brackets: [ADDR]:PORT";
      return std::nullopt;
    }
    ep.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  auto port = parse_port(port_text, allow_zero, error);
  if (!port) {
    error += " in '" + std::string(text) + "'";
    return std::nullopt;
  }
  ep.port = *port;
  return ep;
}

}  // namespace

std::string Endpoint::to_string() const {
  bool v6 = bracketed || host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<Endpoint> parse_endpoint(std::string_view text, std::string& error) {
  auto ep = split(text, false, error);
  if (ep && ep->host.empty()) {
    error = "missing host in '" + std::string(text) + "'";
    return std::nullopt;
  }
  return ep;
}

std::optional<Endpoint> parse_listen_endpoint(std::string_view text, std::string& error) {
  // A bare port ("4433") listens on every address, as `nc -l 4433` does.
  if (!text.empty() && text.find(':') == std::string_view::npos && text.front() != '[') {
    auto port = parse_port(text, true, error);
    if (!port) {
      error += " in '" + std::string(text) + "'";
      return std::nullopt;
    }
    return Endpoint{"", *port, false};
  }
  return split(text, true, error);
}

}  // namespace quicc
