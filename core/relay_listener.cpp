// The pipe listener with --keep-open (ncat -l -k): every client that completes its handshake
// gets a pipe of its own, the same pipe a single connection gets under the same driver, whose
// input and output are a Relay's pipes (relay.hpp). The listener's thread accepts clients and
// runs the relay; the run ends at an interrupt, --timeout, --idle-exit with no client, or when
// the output goes away, once every client's pipe has closed its connection by its own rules
// (what the relay still holds for a stalled output is then lost, as a single pipe's would be).
//
// Interrupts reach each client's pipe through an interrupt source of its own (ForwardedIrq),
// so that every pipe sees every interrupt once (the second closes rapidly, as for one
// connection) and, under the blocking driver, its control thread wakes on its own pipe.
// A client's --timeout is the run's (the same start); its --idle-exit ends that client alone,
// the listener's ends the run once no client has been there for that long.
#include <openssl/err.h>

#include <csignal>

#include <algorithm>
#include <atomic>
#include <list>
#include <memory>
#include <thread>

#include "blocking.hpp"
#include "drivers.hpp"
#include "event_loop.hpp"
#include "pipe_session.hpp"
#include "relay.hpp"

namespace quicc {

namespace {

Config with_ends(const Config& config, int input, int output) {
  Config c = config;
  c.input_fd = input;
  c.output_fd = output;
  return c;
}

struct RelayClient {
  RelayClient(SslPtr ssl, RunContext& listener_run, uint64_t number, int input, int output)
      : number(number),
        emitter(listener_run.emitter, number),
        source{&count, &signal, wake.fd()},
        watch(source),
        config(with_ends(listener_run.config, input, output)),
        run{config, emitter, watch, listener_run.started, listener_run.peers},
        conn(std::make_unique<Connection>(std::move(ssl), emitter, true)) {}

  // Passes on an interrupt the listener took.
  void interrupt(int sig) {
    signal = sig;
    ++count;
    wake.notify();
  }
  // How its pipe ended: a warning on its log unless it ended as it should.
  void report(const Outcome& outcome) {
    if (!outcome.ok() && outcome.status != Status::interrupted)
      emitter.emit(WarningEvent{outcome.message});
  }

  uint64_t number;
  Emitter emitter;  // stamps the client's number on its events
  std::atomic<unsigned> count{0};
  std::atomic<int> signal{0};
  Notifier wake;
  InterruptSource source;
  InterruptWatch watch;
  Config config;  // the listener's, with the relay's pipes as input and output
  RunContext run;
  std::unique_ptr<Connection> conn;
  Clock::time_point accepted = Clock::now();
};

// What ends the listener itself. Once it is set no client is accepted any more.
struct Ending {
  bool ended = false;
  Outcome outcome;
  Clock::time_point last_activity = Clock::now();

  template <class Clients>
  void check(RunContext& run, Relay& relay, Clients& clients, Clock::time_point now) {
    const Config& config = run.config;
    if (unsigned n = run.interrupts.take_new(); n > 0) {
      for (auto& c : clients)
        for (unsigned i = 0; i < n; ++i) c->interrupt(run.interrupts.signal());
      end(interrupted_outcome(run.interrupts.signal()));
    }
    if (run.run_deadline() && now >= *run.run_deadline()) end(timeout_outcome(config));
    if (config.idle_exit.count() > 0 && clients.empty() && relay.empty() &&
        now - last_activity >= config.idle_exit)
      end(idle_exit_outcome(config));
    // The output is gone: the clients' pipes are stopped as if interrupted (one that has
    // nothing to write would never notice), and the run ends as a single pipe's would.
    if (relay.failure() && !ended) {
      for (auto& c : clients) c->interrupt(SIGPIPE);
      end(*relay.failure());
    }
  }
  void end(const Outcome& o) {
    if (ended) return;
    ended = true;
    outcome = o;
  }
  std::optional<Clock::time_point> deadline(const RunContext& run, bool no_clients) const {
    std::optional<Clock::time_point> d = run.run_deadline();
    if (run.config.idle_exit.count() > 0 && no_clients)
      d = earliest(d, last_activity + run.config.idle_exit);
    return d;
  }
};

// The clients that count against --max-conns: those whose thread (if any) is not over and
// whose CONNECTION_CLOSE has neither gone nor come (a closing client's peer is gone or going).
template <class Clients>
size_t open_clients(const Clients& clients) {
  return static_cast<size_t>(std::count_if(clients.begin(), clients.end(), [](const auto& c) {
    if constexpr (requires { c->over.load(); }) {
      if (c->over) return false;
    }
    return !c->conn->closing();
  }));
}

// A new client, set up with its pipes; null if none is waiting or its pipes cannot be made.
// `open`: the clients connected (--max-conns).
template <class Client>
std::unique_ptr<Client> accept_client(SSL* listener, RunContext& run, Relay& relay,
                                      uint64_t& index, size_t open) {
  std::string peer;
  SslPtr ssl = take_connection(listener, run, open, peer);
  if (!ssl) return nullptr;
  ++index;
  run.emitter.emit(ConnectionAcceptedEvent{index, std::move(peer)});
  int input = -1, output = -1;
  std::string error;
  if (!relay.add(index, input, output, error)) {
    run.emitter.emit(WarningEvent{error});
    SSL_shutdown_ex(ssl.get(), SSL_SHUTDOWN_FLAG_RAPID, nullptr, 0);
    return nullptr;
  }
  return std::make_unique<Client>(std::move(ssl), run, index, input, output);
}

// --- non-blocking: every client's PipeSession in the listener's poll() loop -----------------

struct SteppedClient : RelayClient {
  using RelayClient::RelayClient;
  bool established = false;
  std::optional<PipeSession> session;
  size_t input_slot = SIZE_MAX, output_slot = SIZE_MAX;
};

// One turn of a client; false once it is over (its end reported).
bool step_client(SteppedClient& c, SSL* listener, Relay& relay, bool ending, unsigned net_wake,
                 const std::vector<pollfd>& fds) {
  Connection& conn = *c.conn;
  const Config& config = c.config;
  if (!c.established) {
    if (ending) {
      conn.abort();
      return false;
    }
    auto handshake = step_accepted_handshake(conn, c.accepted, config);
    if (!handshake) return true;
    if (!handshake->ok()) {
      c.emitter.emit(WarningEvent{handshake->message});  // the client's failure, not ours
      conn.abort();
      return false;
    }
    c.established = true;
    relay.join(c.number);
    c.session.emplace(conn, c.run, PipeOptions{listener, listener_idle_limit(config)});
  }
  unsigned wake = net_wake;
  if (c.input_slot < fds.size() && fds[c.input_slot].revents) wake |= wake_input;
  if (c.output_slot < fds.size() && fds[c.output_slot].revents) wake |= wake_output;
  if (c.session->turn(wake)) return true;
  c.report(c.session->outcome());
  return false;
}

}  // namespace

Outcome relay_nonblocking(SSL* listener, RunContext& run) {
  EventLoop loop(listener, run.emitter, run.interrupts.wake_fd());
  Relay relay(run.config.input_fd, run.config.output_fd, run.emitter);
  std::list<std::unique_ptr<SteppedClient>> clients;
  std::vector<pollfd> fds;
  Ending ending;
  uint64_t index = 0;
  unsigned net_wake = wake_none;
  for (;;) {
    auto now = Clock::now();
    ending.check(run, relay, clients, now);
    bool busy = false;
    if (relay.handle(fds) > 0) {
      ending.last_activity = now;
      busy = true;  // a client's pipe may have input now, or room for output
    }
    while (!ending.ended) {
      auto c = accept_client<SteppedClient>(listener, run, relay, index, open_clients(clients));
      if (!c) break;
      ending.last_activity = now;
      clients.push_back(std::move(c));
    }
    std::optional<Clock::time_point> deadline = ending.deadline(run, clients.empty());
    uint64_t turn_in = 0, turn_out = 0;
    for (auto it = clients.begin(); it != clients.end();) {
      SteppedClient& c = **it;
      if (!step_client(c, listener, relay, ending.ended, net_wake, fds)) {
        relay.finished(c.number);
        it = clients.erase(it);
        busy = true;  // its last frames are queued: let OpenSSL send them at once
        continue;
      }
      if (c.session) {
        deadline = earliest(deadline, c.session->deadline());
        turn_in += c.session->take_turn_in();
        turn_out += c.session->take_turn_out();
      } else {
        deadline = earliest(deadline, c.accepted + c.config.connect_timeout);
      }
      ++it;
    }
    // What the relay still holds is not waited for: the output may be stalled for good.
    if (ending.ended && clients.empty()) return ending.outcome;

    fds.clear();
    relay.interest(fds);
    for (auto& c : clients) {
      c->input_slot = c->output_slot = SIZE_MAX;
      if (!c->session) continue;
      PipeInterest interest = c->session->interest();
      if (interest.read_fd >= 0) {
        c->input_slot = fds.size();
        fds.push_back({interest.read_fd, POLLIN, 0});
      }
      if (interest.write_fd >= 0) {
        c->output_slot = fds.size();
        fds.push_back({interest.write_fd, POLLOUT, 0});
      }
    }
    if (busy || relay.busy()) deadline = now;
    net_wake = loop.wait_ends(std::span<pollfd>(fds), deadline, turn_in, turn_out);
  }
}

// --- blocking: every client's handshake and pipe on a thread of its own ---------------------

namespace {

struct ThreadClient : RelayClient {
  using RelayClient::RelayClient;
  std::thread thread;
  std::atomic<bool> established{false};  // its handshake completed: the relay may join it
  bool joined = false;                   // the listener's thread joined it to the relay
  std::atomic<bool> over{false};
};

void run_client(ThreadClient& c, SSL* listener, int listener_fd, Notifier& done) {
  Waker waker(-1, listener_fd);
  Connection& conn = *c.conn;
  HandshakeLimits limits{c.accepted + c.config.connect_timeout, false};
  Outcome o = handshake_blocking(conn, c.run, limits, nullptr, waker);
  if (o.ok()) o = conn.report_handshake(c.accepted);
  if (o.ok()) {
    c.established = true;
    done.notify();  // the listener's thread joins it to the relay
    o = pipe_blocking(conn, c.run, PipeOptions{listener, listener_idle_limit(c.config)}, waker);
    c.report(o);
  } else {
    if (o.status != Status::interrupted) c.emitter.emit(WarningEvent{o.message});
    conn.abort();
  }
  ERR_clear_error();
  c.over = true;
  done.notify();
}

}  // namespace

Outcome relay_blocking(SSL* listener, int listener_fd, RunContext& run) {
  EventLoop loop(listener, run.emitter, run.interrupts.wake_fd());
  Relay relay(run.config.input_fd, run.config.output_fd, run.emitter);
  std::list<std::unique_ptr<ThreadClient>> clients;
  Notifier done;  // a client's thread is over
  std::vector<pollfd> fds;
  Ending ending;
  uint64_t index = 0;
  for (;;) {
    auto now = Clock::now();
    ending.check(run, relay, clients, now);
    bool busy = relay.handle(fds) > 0;
    if (busy) ending.last_activity = now;
    // Clients that are over go first: a connection that has just ended no longer counts
    // against --max-conns.
    for (auto it = clients.begin(); it != clients.end();) {
      if ((*it)->established && !(*it)->joined) {
        relay.join((*it)->number);
        (*it)->joined = true;
        busy = true;
      }
      if (!(*it)->over) {
        ++it;
        continue;
      }
      (*it)->thread.join();
      relay.finished((*it)->number);
      it = clients.erase(it);
      busy = true;
    }
    while (!ending.ended) {
      auto c = accept_client<ThreadClient>(listener, run, relay, index, open_clients(clients));
      if (!c) break;
      ending.last_activity = now;
      ThreadClient* raw = c.get();
      c->thread = std::thread([raw, listener, listener_fd, &done] {
        run_client(*raw, listener, listener_fd, done);
      });
      clients.push_back(std::move(c));
      busy = true;  // its thread may be established before the next look
    }
    // What the relay still holds is not waited for: the output may be stalled for good.
    if (ending.ended && clients.empty()) return ending.outcome;

    fds.clear();
    relay.interest(fds);
    fds.push_back({done.fd(), POLLIN, 0});
    auto deadline = ending.deadline(run, clients.empty());
    // OpenSSL's assist thread may read a new client's datagrams before our poll() sees the
    // socket readable: look at the accept queue every 50 ms.
    deadline = earliest(deadline, now + std::chrono::milliseconds(50));
    if (busy || relay.busy()) deadline = now;
    loop.wait_ends(std::span<pollfd>(fds), deadline);
    if (fds.back().revents) done.drain();
    fds.pop_back();  // the relay's own slots stay as they were for handle()
  }
}

}  // namespace quicc
