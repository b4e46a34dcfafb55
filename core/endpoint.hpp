// HOST:PORT parsing. Kept free of sockets so it can be unit-tested on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quicc {

struct Endpoint {
  std::string host;  // name or literal, without brackets; empty = any address (listener only)
  uint16_t port = 0;
  bool bracketed = false;  // written as [v6]:port

  // host:port, bracketing IPv6 literals, as a user would type it.
  std::string to_string() const;
};

// Parses "HOST:PORT" or "[V6ADDR]:PORT" for the client. The port must be 1..65535.
std::optional<Endpoint> parse_endpoint(std::string_view text, std::string& error);

// Parses "[ADDR:]PORT" for --listen. Port 0 asks for any free port; a missing address means
// all addresses.
std::optional<Endpoint> parse_listen_endpoint(std::string_view text, std::string& error);

}  // namespace quicc
