// UDP sockets and name resolution: the only place that touches the BSD socket API.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "endpoint.hpp"
#include "interrupts.hpp"
#include "status.hpp"

namespace quicc {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::string to_string() const;
};

// Owns a file descriptor; closes it when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Resolves host (name or literal) to UDP addresses, in getaddrinfo's order; `family` is
// AF_INET or AF_INET6 to take only those, 0 for both.
Outcome resolve(const Endpoint& endpoint, bool passive, int family,
                std::vector<SocketAddress>& out);

// A non-blocking UDP socket connected to peer, so that ICMP errors reach us.
Outcome open_client_socket(const SocketAddress& peer, UniqueFd& out, SocketAddress& local);

// resolve() on a thread of its own, so that a name server that never answers cannot hold the
// run: the wait ends at an interrupt or at `deadline` (the thread is left to finish alone).
Outcome resolve_interruptible(const Endpoint& endpoint, bool passive, int family,
                              InterruptWatch& interrupts,
                              std::optional<std::chrono::steady_clock::time_point> deadline,
                              std::vector<SocketAddress>& out);

// Where `--listen [ADDR:]PORT` binds: ADDR's addresses; without ADDR, "[::]" dual-stack
// (IPv4 too, IPV6_V6ONLY off) and then "0.0.0.0" should IPv6 be unavailable; -4 / -6 narrow it.
std::vector<SocketAddress> listen_addresses(const Endpoint& endpoint, int family,
                                            const std::vector<SocketAddress>& resolved);

// A non-blocking UDP socket bound to local; `bound` receives the real address (port 0
// resolved). An IPv6 wildcard takes IPv4 too unless `v6only`.
Outcome open_listener_socket(const SocketAddress& local, bool v6only, UniqueFd& out,
                             SocketAddress& bound);

}  // namespace quicc
