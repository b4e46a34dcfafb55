// The Relay of the pipe listener with --keep-open, over real pipes: stdin to every client
// connected, clients to stdout, EOF to every client present and later, a stalled client holding
// the input back, a closed output closing the clients' outputs.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "core/relay.hpp"

using namespace quicc;

namespace {

struct NullSink : EventSink {
  void on_event(const Event&) override {}
};

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() { close_both(); }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_both() {
    close_write();
    close_read();
  }
};

// Turns the relay (poll() for at most 20 ms each) until `done` or `turns` turns.
template <class Done>
bool turn_until(Relay& relay, Done done, int turns = 200) {
  std::vector<pollfd> fds;
  for (int i = 0; i < turns; ++i) {
    if (done()) return true;
    fds.clear();
    relay.interest(fds);
    ::poll(fds.data(), fds.size(), relay.busy() ? 0 : 20);
    relay.handle(fds);
  }
  return done();
}

// Everything readable on `fd` now (it is made non-blocking); `eof` set at its end.
std::string drain(int fd, bool& eof) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string got;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
      continue;
    }
    eof = n == 0;
    return got;
  }
}

void put(int fd, const std::string& s) { REQUIRE(::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size())); }

}  // namespace

TEST_CASE("Relay: stdin to every client, every client to stdout, EOF to all") {
  ::signal(SIGPIPE, SIG_IGN);
  NullSink sink;
  Emitter emitter(sink);
  Pipe in, out;
  Relay relay(in.read, out.write, emitter);

  // With no client the input is not read: its bytes wait for one.
  put(in.write, "one");
  std::vector<pollfd> fds;
  relay.interest(fds);
  CHECK(fds.empty());

  int in1 = -1, out1 = -1, in2 = -1, out2 = -1;
  std::string error;
  REQUIRE(relay.add(1, in1, out1, error));
  relay.join(1);
  REQUIRE(relay.add(2, in2, out2, error));
  relay.join(2);
  std::string got1, got2;
  bool eof1 = false, eof2 = false;
  CHECK(turn_until(relay, [&] {
    got1 += drain(in1, eof1);
    got2 += drain(in2, eof2);
    return got1 == "one" && got2 == "one";
  }));

  // Both clients' output reaches stdout.
  put(out1, "A1");
  put(out2, "B2");
  std::string stdout_got;
  bool stdout_eof = false;
  CHECK(turn_until(relay, [&] {
    stdout_got += drain(out.read, stdout_eof);
    return stdout_got.size() == 4;
  }));
  CHECK((stdout_got == "A1B2" || stdout_got == "B2A1"));

  // The input's EOF reaches both, and a client that comes later finds its input at EOF.
  put(in.write, "two");
  in.close_write();
  CHECK(turn_until(relay, [&] {
    got1 += drain(in1, eof1);
    got2 += drain(in2, eof2);
    return eof1 && eof2;
  }));
  CHECK(got1 == "onetwo");
  CHECK(got2 == "onetwo");
  int in3 = -1, out3 = -1;
  REQUIRE(relay.add(3, in3, out3, error));
  relay.join(3);
  bool eof3 = false;
  CHECK(drain(in3, eof3).empty());
  CHECK(eof3);

  // A client that is over: what it wrote before is still copied, then it is gone.
  put(out1, "last");
  relay.finished(1);
  relay.finished(2);
  relay.finished(3);
  CHECK(turn_until(relay, [&] {
    stdout_got += drain(out.read, stdout_eof);
    return relay.empty();
  }));
  CHECK(stdout_got.ends_with("last"));
  CHECK_FALSE(relay.failure());
}

TEST_CASE("Relay: the slowest client sets the pace") {
  NullSink sink;
  Emitter emitter(sink);
  // The input: a file of 256 KiB (always readable).
  char path[] = "/tmp/quicc-relay-XXXXXX";
  int file = ::mkstemp(path);
  REQUIRE(file >= 0);
  ::unlink(path);
  std::string big(256 * 1024, 'x');
  put(file, big);
  ::lseek(file, 0, SEEK_SET);
  const size_t queued = big.size();
  Pipe out;
  Relay relay(file, out.write, emitter);
  int in1 = -1, out1 = -1, in2 = -1, out2 = -1;
  std::string error;
  REQUIRE(relay.add(1, in1, out1, error));
  relay.join(1);
  REQUIRE(relay.add(2, in2, out2, error));
  relay.join(2);
  // Client 2 never reads: once its pipe is full, nothing more is read from the input.
  std::string got1;
  bool eof1 = false;
  turn_until(relay, [&] {
    got1 += drain(in1, eof1);
    return false;
  }, 20);
  // Client 2's pipe holds at most its capacity plus the chunk being offered.
  size_t capacity = static_cast<size_t>(::fcntl(in2, F_GETPIPE_SZ));
  CHECK(got1.size() <= capacity + 64 * 1024);
  CHECK(got1.size() < queued);
  // Once client 2 reads, client 1 gets the rest.
  std::string got2;
  bool eof2 = false;
  CHECK(turn_until(relay, [&] {
    got1 += drain(in1, eof1);
    got2 += drain(in2, eof2);
    return eof1 && eof2;
  }));
  CHECK(got1 == big);
  CHECK(got2 == big);
  ::close(file);
}

TEST_CASE("Relay: an output whose reader went away closes every client's output") {
  ::signal(SIGPIPE, SIG_IGN);
  NullSink sink;
  Emitter emitter(sink);
  Pipe in, out;
  Relay relay(in.read, out.write, emitter);
  int in1 = -1, out1 = -1;
  std::string error;
  REQUIRE(relay.add(1, in1, out1, error));
  relay.join(1);
  out.close_read();
  put(out1, "lost");
  CHECK(turn_until(relay, [&] { return relay.failure().has_value(); }));
  REQUIRE(relay.failure());
  CHECK(relay.failure()->status == Status::output_closed);
  // The client's pipe now fails as a single connection's would with `quicc | head`.
  CHECK(::write(out1, "x", 1) == -1);
  CHECK(errno == EPIPE);
  relay.finished(1);
  CHECK(relay.empty());
}

TEST_CASE("Relay: a client takes input only once it joins; one that never does takes nothing") {
  // A --keep-open listener adds a client when it is accepted and joins it once its handshake
  // completes: a client whose handshake failed consumed the input meant for the next one.
  ::signal(SIGPIPE, SIG_IGN);
  NullSink sink;
  Emitter emitter(sink);
  Pipe in, out;
  Relay relay(in.read, out.write, emitter);
  put(in.write, "data");

  int in1 = -1, out1 = -1;
  std::string error;
  REQUIRE(relay.add(1, in1, out1, error));
  std::vector<pollfd> fds;
  relay.interest(fds);
  for (const pollfd& p : fds) CHECK(p.fd != in.read);  // nothing to read the input for yet
  CHECK_FALSE(turn_until(relay, [] { return false; }, 5));
  bool eof1 = false;
  CHECK(drain(in1, eof1).empty());
  relay.finished(1);  // its handshake failed

  int in2 = -1, out2 = -1;
  REQUIRE(relay.add(2, in2, out2, error));
  relay.join(2);
  std::string got2;
  bool eof2 = false;
  CHECK(turn_until(relay, [&] {
    got2 += drain(in2, eof2);
    return got2 == "data";
  }));
  relay.finished(2);
}
