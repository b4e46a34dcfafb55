// What every phase of a run shares, whatever the role and the driver: the configuration, the
// event emitter, the interrupt watch, the start time and the deadlines derived from them, and
// the few rules of the phases before a transfer (waiting, resolving, handshaking).
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <utility>

#include <openssl/ssl.h>

#include "close_info.hpp"
#include "config.hpp"
#include "events.hpp"
#include "interrupts.hpp"
#include "ssl_ptr.hpp"
#include "status.hpp"
#include "transfer_policy.hpp"

namespace quicc {

class PeerAddressBook;

// A connection a listener refused at --max-conns: its handshake is completed, and then it is
// closed with close_code_refused, so that the client can read the code and why (a close in the
// handshake goes in the lowest packet level the listener still has, which a client that has
// moved on cannot read: it waited for its timeout). Kept until `until`: its handshake's
// deadline, then a while closing, so that the client's next packets meet the close.
struct RefusedConnection {
  SslPtr ssl;
  std::chrono::steady_clock::time_point until;
  bool closed = false;
};

struct RunContext {
  const Config& config;
  Emitter& emitter;
  InterruptWatch& interrupts;
  Clock::time_point started = Clock::now();
  // A listener's: who each accepted connection came from (peer_address.hpp).
  PeerAddressBook* peers = nullptr;
  // A listener's connections refused at --max-conns (take_connection).
  std::deque<RefusedConnection> refused;

  // --timeout's deadline, if any.
  std::optional<Clock::time_point> run_deadline() const {
    if (config.timeout.count() <= 0) return std::nullopt;
    return started + config.timeout;
  }
};

// What ends a run of many streams or connections (--get, the service listeners) besides its
// work: a new interrupt, --timeout, or --idle-exit since `last_activity`. `outcome` stays ok
// when nothing does; `close` is the close it asks for (code 0x1 interrupted, 0x3 timeout or
// idle).
struct RunEnding {
  Outcome outcome;
  CloseRequest close{false, false, false, close_code_timeout, "timeout"};
};
RunEnding run_ending(RunContext& run, Clock::time_point last_activity, Clock::time_point now);

// The end of a --get run (both drivers): once the responses are done, wait (at most 100 ms,
// running OpenSSL's timers) for our ACK of the peer's last data, then close as `request`
// says, bounded (1 s; 0.5 s after an interrupt or a deadline). An interrupt while waiting
// sets `ending` and makes the close rapid, code 0x1.
class Connection;
class EventLoop;
void close_fetch(Connection& conn, RunContext& run, EventLoop& loop, Outcome& ending,
                 CloseRequest& request);


// The outcome of an interrupt before or outside a transfer (no connection to close).
Outcome interrupted_outcome(int signal);
// A duration as the user writes it: "2s", "250ms".
std::string duration_text(std::chrono::milliseconds d);
// --timeout reached, or --idle-exit (no data for that long).
Outcome timeout_outcome(const Config& config);
Outcome idle_exit_outcome(const Config& config);

// The handshake on `conn` failed (SSL_do_handshake said so): verification, pin, ALPN, TLS
// alerts, timeout, network. Clears OpenSSL's error queue.
class TlsContext;
Outcome describe_handshake_failure(SSL* conn, const TlsContext* tls);
// No handshake by the deadline; `per_address`: the client moves on to its next address.
Outcome handshake_timeout_outcome(const Config& config, bool per_address);
// A listener's own idle timer fired (--idle-timeout): the close information it stands for.
CloseInfo local_idle_close();

// The transfer rules for this run's configuration.
TransferPolicy::Settings policy_settings(const RunContext& run);
// How long the peer gets to see our stream reset before we close: a few round trips.
std::chrono::milliseconds linger_for(uint64_t rtt_us);

// How often a pipe tells its progress (Config::progress).
inline constexpr std::chrono::milliseconds progress_interval{200};

// SIGUSR1's status line and the progress meter's ticks of one connection's transfer (a pipe's
// or --get's, both drivers), emitted through the connection's emitter. Used by one thread.
class Connection;
class TransferMeter {
 public:
  explicit TransferMeter(RunContext& run);
  // When the transfer began (the figures' elapsed time).
  Clock::time_point started() const { return started_; }
  // Emits what is due, given the bytes so far; returns when it must be called again at the
  // latest (nothing without --progress: SIGUSR1 wakes the driver).
  std::optional<Clock::time_point> tick(uint64_t bytes_in, uint64_t bytes_out, Connection& conn,
                                        Clock::time_point now);

 private:
  RunContext& run_;
  Clock::time_point started_;
  Clock::time_point next_;
};

// The earlier of two optional deadlines.
std::optional<Clock::time_point> earliest(std::optional<Clock::time_point> a,
                                          std::optional<Clock::time_point> b);

}  // namespace quicc
