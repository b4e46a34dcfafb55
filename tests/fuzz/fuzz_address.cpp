// The client's HOST:PORT and --listen's [ADDR:]PORT (core/endpoint.cpp), both from the command
// line: an accepted address written back by Endpoint::to_string reads as the same address.
#include <cstdint>
#include <string>

#include "core/endpoint.hpp"
#include "fuzz_check.hpp"

using quicc::Endpoint;
using quicc::fuzz::require;

namespace {

bool same(const Endpoint& a, const Endpoint& b) {
  return a.host == b.host && a.port == b.port && a.bracketed == b.bracketed;
}

void check_round_trip(const Endpoint& ep, bool listen) {
  std::string error;
  auto again = listen ? quicc::parse_listen_endpoint(ep.to_string(), error)
                      : quicc::parse_endpoint(ep.to_string(), error);
  require(again && same(*again, ep), "to_string() parses back to the same endpoint");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = quicc::fuzz::text_of(data, size);

  std::string error;
  auto client = quicc::parse_endpoint(text, error);
  require(client || !error.empty(), "a refused client address says why");
  if (client) {
    require(!client->host.empty() && client->port != 0, "a client address has a host and port 1-65535");
    require(client->host.find(']') == std::string::npos, "no ']' left in the host");
    require(client->bracketed || client->host.find(':') == std::string::npos,
            "a host with ':' was bracketed");
    check_round_trip(*client, false);
  }

  std::string listen_error;
  auto listen = quicc::parse_listen_endpoint(text, listen_error);
  require(listen || !listen_error.empty(), "a refused listen address says why");
  if (listen) check_round_trip(*listen, true);
  // --connect-to reads its value with the listen parser: it must take every client address.
  if (client) require(listen && same(*listen, *client), "the listen parser takes a client address as is");
  return 0;
}
