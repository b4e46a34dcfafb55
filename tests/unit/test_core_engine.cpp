// The engine in-process, client against listener over loopback UDP, with a recording sink:
// asserts the order of the events a small session produces, under both drivers.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "cli/config_builder.hpp"
#include "core/engine.hpp"

using namespace quicc;

namespace {

class RecordingSink : public EventSink {
 public:
  void on_event(const Event& event) override {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
    cv_.notify_all();
  }
  bool wants_ticks() const override { return true; }

  template <typename T>
  T wait_for() {
    std::unique_lock lock(mutex_);
    T found{};
    cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const auto& e : events_)
        if (auto* p = std::get_if<T>(&e.data)) {
          found = *p;
          return true;
        }
      return false;
    });
    return found;
  }
  std::vector<Event> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

template <typename T, typename Pred>
long index_of(const std::vector<Event>& events, Pred pred) {
  for (size_t i = 0; i < events.size(); ++i)
    if (auto* p = std::get_if<T>(&events[i].data); p && pred(*p)) return static_cast<long>(i);
  return -1;
}

template <typename T>
long index_of(const std::vector<Event>& events) {
  return index_of<T>(events, [](const T&) { return true; });
}

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { REQUIRE(::pipe(fds) == 0); }
  ~Pipe() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  void close_end(int i) {
    ::close(fds[i]);
    fds[i] = -1;
  }
};

}  // namespace

// Every run in this file is bounded, so that a hang fails the test instead of stalling it (CTest
// also gives the unit test a TIMEOUT).
constexpr std::chrono::milliseconds run_limit{20'000};

TEST_CASE("core::run: event order of a small session") {
  Driver driver = Driver::nonblocking;
  SUBCASE("nonblocking") { driver = Driver::nonblocking; }
  SUBCASE("blocking") { driver = Driver::blocking; }

  // Listener: pipe mode, sends nothing (its input is at EOF), keeps what it receives.
  Pipe listener_in, listener_out;
  listener_in.close_end(1);
  Config lc;
  lc.role = Role::listener;
  lc.endpoint = {"127.0.0.1", 0, false};
  lc.driver = driver;
  lc.input_fd = listener_in.fds[0];
  lc.output_fd = listener_out.fds[1];
  lc.timeout = run_limit;
  RecordingSink listener_sink;
  Outcome listener_outcome;
  std::thread listener([&] { listener_outcome = run(lc, listener_sink); });
  // A failed REQUIRE below must not destroy a joinable thread (std::terminate); lc.timeout
  // bounds the wait.
  struct Join {
    std::thread& thread;
    ~Join() {
      if (thread.joinable()) thread.join();
    }
  } join_listener{listener};

  auto listening = listener_sink.wait_for<ListeningEvent>();
  auto cert = listener_sink.wait_for<CertificateEvent>();
  REQUIRE_FALSE(listening.local.empty());
  std::string error;
  auto pin = cli::parse_pin(cert.fingerprint_sha256, error);
  REQUIRE(pin);

  Pipe client_in, client_out;
  REQUIRE(::write(client_in.fds[1], "hello", 5) == 5);
  client_in.close_end(1);
  Config cc;
  cc.endpoint = {"127.0.0.1", static_cast<uint16_t>(std::stoi(listening.local.substr(10))), false};
  cc.driver = driver;
  cc.pin_sha256 = *pin;
  cc.input_fd = client_in.fds[0];
  cc.output_fd = client_out.fds[1];
  cc.timeout = run_limit;
  RecordingSink client_sink;
  Outcome outcome = run(cc, client_sink);
  listener.join();
  CHECK(outcome.status != Status::timeout);
  CHECK(listener_outcome.status != Status::timeout);

  CHECK(outcome.ok());
  CHECK(listener_outcome.ok());
  char received[16] = {};
  CHECK(::read(listener_out.fds[0], received, sizeof received) == 5);
  CHECK(std::string(received) == "hello");

  auto events = client_sink.events();
  REQUIRE_FALSE(events.empty());
  long handshake = index_of<HandshakeDoneEvent>(events);
  long first_data = index_of<TickEvent>(events, [](const TickEvent& t) { return t.bytes_out > 0; });
  long input_closed = index_of<InputClosedEvent>(events);
  long fin_sent = index_of<StreamEvent>(
      events, [](const StreamEvent& s) { return s.change == StreamChange::fin_sent; });
  long fin_received = index_of<StreamEvent>(
      events, [](const StreamEvent& s) { return s.change == StreamChange::fin_received; });
  REQUIRE(handshake >= 0);
  REQUIRE(first_data >= 0);
  REQUIRE(input_closed >= 0);
  REQUIRE(fin_sent >= 0);
  REQUIRE(fin_received >= 0);
  CHECK(handshake < first_data);
  CHECK(input_closed < fin_sent);
  CHECK(std::holds_alternative<CloseEvent>(events.back().data));
  auto close = std::get<CloseEvent>(events.back().data);
  CHECK(close.bytes_out == 5);
  CHECK(close.bytes_in == 0);
  CHECK_FALSE(close.transport);
  CHECK(close.error_code == 0);
}

TEST_CASE("core::run: --send and --expect on both sides, under both drivers") {
  Driver driver = Driver::nonblocking;
  SUBCASE("nonblocking") { driver = Driver::nonblocking; }
  SUBCASE("blocking") { driver = Driver::blocking; }
  bool client_matches = true;
  SUBCASE("a match") { client_matches = true; }
  SUBCASE("no match") { client_matches = false; }
  CAPTURE(static_cast<int>(driver));
  CAPTURE(client_matches);

  // The listener answers "pong" and never ends its side (--on-eof ignore): only the client's
  // match ends the client's reading. Its stdin is a pipe nobody writes to: it must not be read.
  Pipe idle_in, listener_out;
  Config lc;
  lc.role = Role::listener;
  lc.endpoint = {"127.0.0.1", 0, false};
  lc.driver = driver;
  lc.input_fd = idle_in.fds[0];
  lc.output_fd = listener_out.fds[1];
  lc.timeout = run_limit;
  lc.on_eof = EofPolicy::ignore;
  lc.send = {InputPart{"pong\r\n", -1, ""}};
  lc.expect = {"^ping$"};
  RecordingSink listener_sink;
  Outcome listener_outcome;
  std::thread listener([&] { listener_outcome = run(lc, listener_sink); });
  struct Join {
    std::thread& thread;
    ~Join() {
      if (thread.joinable()) thread.join();
    }
  } join_listener{listener};

  auto listening = listener_sink.wait_for<ListeningEvent>();
  auto cert = listener_sink.wait_for<CertificateEvent>();
  std::string error;
  auto pin = cli::parse_pin(cert.fingerprint_sha256, error);
  REQUIRE(pin);

  Pipe client_out;
  Config cc;
  cc.endpoint = {"127.0.0.1", static_cast<uint16_t>(std::stoi(listening.local.substr(10))), false};
  cc.driver = driver;
  cc.pin_sha256 = *pin;
  cc.input_fd = -1;
  cc.output_fd = client_out.fds[1];
  // Without a match, the listener's close (1 s after its own match) normally ends the client
  // first; a loaded machine may let the client's --timeout come first.
  cc.timeout = client_matches ? run_limit : std::chrono::milliseconds(4000);
  cc.send = {InputPart{"pi", -1, ""}, InputPart{"ng\n", -1, ""}};
  cc.expect = {client_matches ? "^pong\\r$" : "^pang"};
  RecordingSink client_sink;
  auto t0 = std::chrono::steady_clock::now();
  Outcome outcome = run(cc, client_sink);
  auto took = std::chrono::steady_clock::now() - t0;
  listener.join();

  char received[16] = {};
  CHECK(::read(client_out.fds[0], received, sizeof received) == 6);
  CHECK(std::string(received) == "pong\r\n");
  char heard[16] = {};
  CHECK(::read(listener_out.fds[0], heard, sizeof heard) == 5);
  CHECK(std::string(heard) == "ping\n");
  bool client_timed_out = outcome.message.find("--timeout") != std::string::npos;
  if (client_timed_out) {
    // Our --timeout closed the connection (code 0x3) before the listener's grace was over.
    CHECK(listener_outcome.status == Status::peer_app_error);
  } else {
    CHECK_MESSAGE(listener_outcome.ok(), listener_outcome.message);
  }
  if (client_matches) {
    CHECK_MESSAGE(outcome.ok(), outcome.message);
    // The listener never sends its FIN: the match ended the run, long before --timeout.
    CHECK(took < std::chrono::seconds(5));
  } else {
    CHECK(outcome.status == Status::expect_failed);
    // Whichever ends the run first: our --timeout, or the listener's close, once its grace
    // for ours is over (its own transfer ended with our FIN).
    CAPTURE(outcome.message);
    CHECK(outcome.message.starts_with("--expect found no match in the received data (6 bytes received; "));
    CHECK((outcome.message.find("; --timeout 4s reached)") != std::string::npos ||
           outcome.message.find("; peer closed the connection before its FIN, after 6 bytes)") !=
               std::string::npos));
    CHECK(outcome.message.ends_with("): '^pang' did not match; received:"));
    REQUIRE(outcome.peer_data);
    CHECK(*outcome.peer_data == "pong\r\n");
  }
}
