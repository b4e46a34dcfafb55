#include "net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace quicc {

namespace {

Outcome sys_error(const std::string& what) {
  return {Status::io_error, what + ": " + std::strerror(errno)};
}

bool set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

std::string SocketAddress::to_string() const {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (family() == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
    port = ntohs(sin->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (family() == AF_INET6) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
    port = ntohs(sin6->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "?";
}

Outcome resolve(const Endpoint& endpoint, bool passive, int family,
                std::vector<SocketAddress>& out) {
  addrinfo hints{};
  hints.ai_family = family ? family : AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  if (endpoint.bracketed) hints.ai_flags |= AI_NUMERICHOST;

  std::string port = std::to_string(endpoint.port);
  addrinfo* res = nullptr;
  const char* node = endpoint.host.empty() ? nullptr : endpoint.host.c_str();
  int rc = getaddrinfo(node, port.c_str(), &hints, &res);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    return {Status::resolve_failed, "cannot resolve '" + endpoint.host + "': " + why};
  }
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    SocketAddress addr;
    std::memcpy(&addr.storage, ai->ai_addr, ai->ai_addrlen);
    addr.length = ai->ai_addrlen;
    out.push_back(addr);
  }
  freeaddrinfo(res);
  if (out.empty()) return {Status::resolve_failed, "'" + endpoint.host + "' has no address"};
  return {};
}

Outcome open_client_socket(const SocketAddress& peer, UniqueFd& out, SocketAddress& local) {
  UniqueFd fd(::socket(peer.family(), SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
  if (fd.get() < 0) return sys_error("cannot create UDP socket");
  if (::connect(fd.get(), peer.get(), peer.length) != 0)
    return sys_error("cannot reach " + peer.to_string());
  if (!set_nonblocking(fd.get())) return sys_error("cannot make socket non-blocking");
  local.length = sizeof local.storage;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local.storage), &local.length);
  out = std::move(fd);
  return {};
}

Outcome open_listener_socket(const SocketAddress& local, UniqueFd& out, SocketAddress& bound) {
  UniqueFd fd(::socket(local.family(), SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
  if (fd.get() < 0) return sys_error("cannot create UDP socket");
  if (local.family() == AF_INET6) {
    // "[::]:PORT" should also take IPv4, as most servers do.
    int off = 0;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  if (::bind(fd.get(), local.get(), local.length) != 0)
    return sys_error("cannot listen on " + local.to_string());
  if (!set_nonblocking(fd.get())) return sys_error("cannot make socket non-blocking");
  bound.length = sizeof bound.storage;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound.storage), &bound.length);
  out = std::move(fd);
  return {};
}

}  // namespace quicc
