#include "net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "event_loop.hpp"
#include "session.hpp"

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

namespace {

// One getaddrinfo call, shared by the waiting thread and the resolving one: whichever lets go
// last frees it.
struct ResolveJob {
  std::vector<SocketAddress> addresses;
  Outcome outcome;
  std::atomic<bool> done{false};
  int notify[2] = {-1, -1};
  ~ResolveJob() {
    for (int fd : notify)
      if (fd >= 0) ::close(fd);
  }
};

SocketAddress wildcard(int family, uint16_t port) {
  SocketAddress a;
  if (family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_any;
    sin6->sin6_port = htons(port);
    a.length = sizeof *sin6;
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_ANY);
    sin->sin_port = htons(port);
    a.length = sizeof *sin;
  }
  return a;
}

}  // namespace

Outcome resolve_interruptible(const Endpoint& endpoint, bool passive, int family,
                              InterruptWatch& interrupts,
                              std::optional<std::chrono::steady_clock::time_point> deadline,
                              std::vector<SocketAddress>& out) {
  // A literal address, or none, needs no lookup: no thread, nothing to wait for (a thread's
  // start alone once took past a 1 s --connect-timeout on a loaded machine under TSan).
  in6_addr literal;
  if (endpoint.host.empty() || endpoint.bracketed ||
      ::inet_pton(AF_INET, endpoint.host.c_str(), &literal) == 1 ||
      ::inet_pton(AF_INET6, endpoint.host.c_str(), &literal) == 1)
    return resolve(endpoint, passive, family, out);
  auto job = std::make_shared<ResolveJob>();
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, job->notify) != 0)
    return resolve(endpoint, passive, family, out);
  std::thread([job, endpoint, passive, family] {
    job->outcome = resolve(endpoint, passive, family, job->addresses);
    job->done = true;
    char c = 1;
    [[maybe_unused]] ssize_t n = ::send(job->notify[1], &c, 1, MSG_NOSIGNAL);
  }).detach();
  for (;;) {
    if (job->done) {
      out = job->addresses;
      return job->outcome;
    }
    if (interrupts.take_new() > 0) return interrupted_outcome(interrupts.signal());
    if (deadline && std::chrono::steady_clock::now() >= *deadline)
      return {Status::resolve_failed, "cannot resolve '" + endpoint.host + "': no answer in time"};
    wait_readable({job->notify[0]}, interrupts.wake_fd(), deadline);
  }
}

std::vector<SocketAddress> listen_addresses(const Endpoint& endpoint, int family,
                                            const std::vector<SocketAddress>& resolved) {
  if (!endpoint.host.empty()) return resolved;
  std::vector<SocketAddress> out;
  if (family != AF_INET) out.push_back(wildcard(AF_INET6, endpoint.port));
  if (family != AF_INET6) out.push_back(wildcard(AF_INET, endpoint.port));
  return out;
}

Outcome open_listener_socket(const SocketAddress& local, bool v6only, UniqueFd& out,
                             SocketAddress& bound) {
  UniqueFd fd(::socket(local.family(), SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
  if (fd.get() < 0) return sys_error("cannot create UDP socket");
  if (local.family() == AF_INET6) {
    // "[::]:PORT" takes IPv4 too, as most servers do, unless -6 asked for IPv6 only.
    int only = v6only ? 1 : 0;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
  }
  if (::bind(fd.get(), local.get(), local.length) != 0)
    return sys_error("cannot listen on " + local.to_string());
  if (!set_nonblocking(fd.get())) return sys_error("cannot make socket non-blocking");
  // Every client's first flight lands in this one socket: with the kernel's default 208 KiB a
  // burst of 100 handshakes (two full Initials each) overflowed it, 5000-9000 datagrams were
  // dropped and handshakes took up to 9 s (found by load_echo). Ask for 4 MiB; the kernel caps
  // SO_RCVBUF at net.core.rmem_max, which a privileged process may exceed (SO_RCVBUFFORCE).
  int want = 4 * 1024 * 1024, got = 0;
  socklen_t got_len = sizeof got;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &got, &got_len) == 0 && got < want)
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want);
  bound.length = sizeof bound.storage;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound.storage), &bound.length);
  out = std::move(fd);
  return {};
}

}  // namespace quicc
