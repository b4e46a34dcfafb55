// Everything the engine needs to run, already validated. cli/ fills it from the command line
// (cli/config_from_options.cpp is the one place that does); core/ never sees raw options.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "endpoint.hpp"

namespace quicc {

// Which way the engine waits for OpenSSL's QUIC event loop (see ARCHITECTURE.md).
enum class Driver {
  nonblocking,  // one thread, poll() over the UDP socket, stdin and stdout
  blocking,     // OpenSSL blocking mode; a reader and a writer thread share the connection
};

enum class Role { client, listener };

struct Config {
  Role role = Role::client;
  Endpoint endpoint;  // client: where to connect; listener: where to bind

  Driver driver = Driver::nonblocking;

  // ALPN protocols offered (client) or accepted (listener), in preference order.
  std::vector<std::string> alpn = {"quicc"};

  // Peer verification (client). Verification is on unless pin_sha256 replaces it.
  std::string cafile;      // empty: the system trust store
  std::string pin_sha256;  // 64 lowercase hex digits, or empty

  // Our certificate: the listener's (ephemeral when empty), or a client certificate.
  std::string cert_file;
  std::string key_file;

  // Listener: echo every stream of every connection instead of piping stdin/stdout.
  bool echo = false;

  // Handshake deadline, counted from the first packet sent (client) or accepted (listener).
  std::chrono::milliseconds connect_timeout{10'000};

  // The data endpoints of the pipe.
  int input_fd = 0;
  int output_fd = 1;
};

}  // namespace quicc
