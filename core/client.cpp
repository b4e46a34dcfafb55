// The client: TLS context, resolve, try each address in turn until a handshake succeeds, then
// pipe mode.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <memory>

#include "check.hpp"
#include "drivers.hpp"
#include "engine.hpp"
#include "net.hpp"
#include "session.hpp"
#include "ssl_ptr.hpp"
#include "tls.hpp"
#include "wire.hpp"

namespace quicc {

namespace {

// How long an address that does not answer gets before the next one is tried; the last one
// gets what is left of --connect-timeout. (QUIC over UDP gives no connect() failure to move on
// at; an ICMP error moves on at once.)
constexpr std::chrono::milliseconds per_address_wait{1000};

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// The QUIC connection object, configured before the first packet.
SslPtr new_connection(const Config& config, const TlsContext& tls, int fd,
                      const SocketAddress& peer, Outcome& outcome) {
  SslPtr conn(SSL_new(tls.get()));
  BIO* bio = conn ? BIO_new(BIO_s_datagram()) : nullptr;
  if (!bio) {
    outcome = {Status::internal, "cannot create connection: " + openssl_error_text()};
    return nullptr;
  }
  BIO_set_fd(bio, fd, BIO_NOCLOSE);
  SSL_set_bio(conn.get(), bio, bio);

  BIO_ADDR* addr = BIO_ADDR_new();
  const sockaddr* sa = peer.get();
  bool addr_ok =
      sa->sa_family == AF_INET
          ? BIO_ADDR_rawmake(addr, AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr,
                             sizeof(in_addr), reinterpret_cast<const sockaddr_in*>(sa)->sin_port)
          : BIO_ADDR_rawmake(addr, AF_INET6,
                             &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr,
                             sizeof(in6_addr), reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  addr_ok = addr_ok && SSL_set1_initial_peer_addr(conn.get(), addr);
  BIO_ADDR_free(addr);

  const std::string& host = config.endpoint.host;
  // SNI names a host, never an address (RFC 6066); --sni overrides, --no-sni omits it.
  std::string sni = config.sni.empty() && !is_ip_literal(host) ? host : config.sni;
  auto alpn = alpn_wire_format(config.alpn);
  bool ok = addr_ok &&
            (config.no_sni || sni.empty() ||
             SSL_set_tlsext_host_name(conn.get(), sni.c_str()) == 1) &&
            // A pinned certificate replaces the name check, as in ssh; --insecure skips it.
            (!config.pin_sha256.empty() || config.insecure ||
             SSL_set1_host(conn.get(), host.c_str()) == 1) &&
            (!tls.session_in() || SSL_set_session(conn.get(), tls.session_in()) == 1) &&
            (!config.idle_timeout ||
             SSL_set_feature_request_uint(conn.get(), SSL_VALUE_QUIC_IDLE_TIMEOUT,
                                          static_cast<uint64_t>(config.idle_timeout->count())) == 1) &&
            SSL_set_alpn_protos(conn.get(), alpn.data(), static_cast<unsigned>(alpn.size())) == 0 &&
            SSL_set_blocking_mode(conn.get(), config.driver == Driver::blocking) == 1 &&
            // Our data stream is one we open ourselves: with the default stream mode a stream the
            // peer opens first (an HTTP/3 control stream, say) would become the default stream.
            SSL_set_default_stream_mode(conn.get(), SSL_DEFAULT_STREAM_MODE_NONE) == 1 &&
            SSL_set_incoming_stream_policy(conn.get(), SSL_INCOMING_STREAM_POLICY_ACCEPT, 0) == 1;
  if (!ok) {
    outcome = {Status::internal, "cannot configure connection: " + openssl_error_text()};
    return nullptr;
  }
  return conn;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

// Whether a failed attempt leaves room to try the next address.
bool worth_next_address(const Outcome& failed, const HandshakeLimits& limits, Connection& conn) {
  if (failed.status == Status::handshake_timeout && limits.next_address_after) return true;
  auto info = conn.close_info();
  return info && network_failed(*info);
}

// What the run does over its connection once the handshake is done.
Outcome work(const Config& config, Connection& conn, RunContext& run, const TlsContext& tls,
             Waker& waker, std::chrono::microseconds handshake_time) {
  bool blocking = config.driver == Driver::blocking;
  if (config.check) return check_connection(conn, run, tls, handshake_time);
  if (!config.requests.empty() || config.perf_client)
    return blocking ? fetch_blocking(conn, run, waker) : fetch_nonblocking(conn, run);
  // Its own idle timer, from the last datagram received, as the listener and --get have:
  // OpenSSL's keep-alive PING (sent half an idle timeout after our last packet) restarts
  // OpenSSL's timer, so a dead server was noticed after 1.5x --idle-timeout.
  PipeOptions options{conn.ssl(), listener_idle_limit(config)};
  return blocking ? pipe_blocking(conn, run, options, waker) : pipe_nonblocking(conn, run, options);
}

// --warn-days: a run that did everything it was asked still fails when the server's
// certificate is about to expire; any other failure says more and keeps its own status.
Outcome with_expiry(const Config& config, const Connection& conn, Outcome outcome) {
  if (!outcome.ok() || !config.warn_days || !conn.peer_certificate()) return outcome;
  return expiry_outcome(*conn.peer_certificate(), *config.warn_days, unix_now());
}

}  // namespace

Outcome run_client(const Config& config, Emitter& emitter, InterruptWatch& interrupts) {
  RunContext run{config, emitter, interrupts};
  auto run_deadline = run.run_deadline();

  // TLS first: an option OpenSSL rejects is a usage error, found before the network.
  Outcome outcome;
  auto tls = TlsContext::for_client(config, outcome, &emitter);
  if (!tls) return outcome;
  if (config.insecure)
    emitter.emit(WarningEvent{"--insecure: the server's certificate is NOT verified; anyone on "
                              "the path can read and change this connection"});
  enable_qlog(config.qlog_dir);
  install_wire_callback(tls->get(), emitter.wants_trace() ? &emitter : nullptr);

  // --connect-to dials elsewhere; the name checked and sent stays config.endpoint.host.
  Endpoint dial = config.endpoint;
  if (config.connect_to) {
    dial = *config.connect_to;
    if (dial.port == 0) dial.port = config.endpoint.port;
  }
  std::vector<SocketAddress> addresses;
  if (Outcome o = resolve_interruptible(dial, false, config.address_family, interrupts,
                                        earliest(run_deadline, run.started + config.connect_timeout),
                                        addresses);
      !o.ok())
    return o;
  ResolvedEvent resolved{dial.host, {}};
  for (const auto& a : addresses) resolved.addresses.push_back(a.to_string());
  emitter.emit(resolved);

  // Each address in turn: the next one after an ICMP error, or after a short wait.
  std::optional<Clock::time_point> overall;  // --connect-timeout, from the first packet
  for (size_t i = 0; i < addresses.size(); ++i) {
    const SocketAddress& peer = addresses[i];
    bool last = i + 1 == addresses.size();
    UniqueFd fd;
    SocketAddress local;
    if (Outcome o = open_client_socket(peer, fd, local); !o.ok()) {
      if (last) return o;
      emitter.emit(WarningEvent{o.message + "; trying the next address"});
      continue;
    }
    emitter.emit(SocketEvent{local.to_string(), peer.to_string()});
    SslPtr ssl = new_connection(config, *tls, fd.get(), peer, outcome);
    if (!ssl) return outcome;
    Connection conn(std::move(ssl), emitter, false);
    conn.set_peer(peer.to_string());

    auto started = Clock::now();
    if (!overall) overall = started + config.connect_timeout;
    HandshakeLimits limits{*overall, false};
    if (!last && started + per_address_wait < *overall) limits = {started + per_address_wait, true};
    emitter.emit(HandshakeStartEvent{peer.to_string(), static_cast<unsigned>(i + 1),
                                     static_cast<unsigned>(addresses.size())});
    Waker waker(fd.get(), -1);
    Outcome hs = config.driver == Driver::blocking
                     ? handshake_blocking(conn, run, limits, tls.get(), waker)
                     : handshake_nonblocking(conn, conn.ssl(), run, limits, tls.get());
    if (!hs.ok()) {
      // The certificate that failed verification, for whoever decides whether to trust it.
      if (hs.status == Status::verify_failed)
        if (auto cert = peer_certificate_of(conn.ssl(), unix_now()))
          emitter.emit(PeerCertificateEvent{*cert});
      if (hs.status == Status::port_unreachable) hs.message = port_unreachable_text(peer.to_string());
      if (!last && worth_next_address(hs, limits, conn)) {
        emitter.emit(WarningEvent{"no handshake with " + peer.to_string() + " (" + hs.message +
                                  "); trying the next address"});
        continue;
      }
      if (hs.status == Status::no_alpn) hs.message += "; we offered " + join(config.alpn) + " (--alpn)";
      return hs;
    }
    auto handshake_time = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    if (Outcome o = conn.report_handshake(started, tls->session_in() != nullptr); !o.ok()) {
      conn.abort();
      o.message += "; we offered " + join(config.alpn) + " (--alpn)";
      return o;
    }
    return with_expiry(config, conn, work(config, conn, run, *tls, waker, handshake_time));
  }
  return {Status::handshake_failed, "no address of " + dial.host + " could be tried"};
}

}  // namespace quicc
