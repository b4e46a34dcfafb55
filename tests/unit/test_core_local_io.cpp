// LocalInput with a script (--send, --send-file): the parts in order, then EOF; a part that
// must be polled is announced with not_ready, so that no read ever blocks.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/local_io.hpp"

using namespace quicc;

namespace {

// Reads `in` to EOF with `chunk`-byte reads, polling when it must; the bytes, and how many
// not_ready answers came.
std::string read_all(LocalInput& in, size_t chunk, int& not_ready) {
  std::string out;
  std::vector<char> buffer(chunk);
  not_ready = 0;
  for (int turns = 0; turns < 10000; ++turns) {
    if (!in.always_ready()) {
      pollfd p{in.fd(), POLLIN, 0};
      REQUIRE(::poll(&p, 1, 5000) == 1);  // a read now would not block
    }
    size_t n = 0;
    std::string error;
    switch (in.read(buffer.data(), buffer.size(), n, error)) {
      case LocalInput::Result::data: out.append(buffer.data(), n); break;
      case LocalInput::Result::not_ready: ++not_ready; break;
      case LocalInput::Result::eof: return out;
      case LocalInput::Result::failed: FAIL(error); return out;
    }
  }
  FAIL("no EOF");
  return out;
}

// A temporary file holding `contents`, opened for reading.
struct TempFile {
  int fd = -1;
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/quicc-unit-input-XXXXXX";
    int w = ::mkstemp(name);
    REQUIRE(w >= 0);
    REQUIRE(::write(w, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()));
    ::close(w);
    fd = ::open(name, O_RDONLY);
    ::unlink(name);
    REQUIRE(fd >= 0);
  }
  ~TempFile() { ::close(fd); }
};

// A pipe whose writing end already holds `contents` and is closed.
struct FilledPipe {
  int fd = -1;
  explicit FilledPipe(const std::string& contents) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    REQUIRE(::write(p[1], contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()));
    ::close(p[1]);
    fd = p[0];
  }
  ~FilledPipe() { ::close(fd); }
};

}  // namespace

TEST_CASE("LocalInput: a script's parts in order, then EOF; stdin is not read") {
  TempFile file("<file>");
  FilledPipe pipe("<pipe>");
  FilledPipe stdin_pipe("stdin must not be read");
  std::vector<InputPart> script = {
      {"one ", -1, ""},
      {"", file.fd, "a.txt"},
      {"", -1, ""},  // --send ''
      {"", pipe.fd, "/dev/fd/63"},
      {" two", -1, ""},
  };
  LocalInput in(stdin_pipe.fd, script);
  CHECK(in.kind() == EndKind::memory);
  CHECK(in.always_ready());
  int not_ready = 0;
  for (size_t chunk : {1, 3, 4096}) {
    CAPTURE(chunk);
    TempFile f("<file>");
    FilledPipe p("<pipe>");
    script[1].fd = f.fd;
    script[3].fd = p.fd;
    LocalInput each(stdin_pipe.fd, script);
    CHECK(read_all(each, chunk, not_ready) == "one <file><pipe> two");
    // The move to the pipe, which must be polled first, was announced.
    CHECK(not_ready >= 1);
  }
  char c;
  CHECK(::read(stdin_pipe.fd, &c, 1) == 1);  // untouched
}

TEST_CASE("LocalInput: an empty script is the descriptor; an all-empty one is at EOF") {
  FilledPipe p("data");
  LocalInput plain(p.fd, {});
  CHECK(plain.kind() == EndKind::pipe);
  int not_ready = 0;
  CHECK(read_all(plain, 100, not_ready) == "data");

  std::vector<InputPart> empty = {{"", -1, ""}};
  LocalInput in(-1, empty);
  size_t n = 0;
  std::string error;
  char buffer[8];
  CHECK(in.read(buffer, sizeof buffer, n, error) == LocalInput::Result::eof);
  CHECK(in.read(buffer, sizeof buffer, n, error) == LocalInput::Result::eof);
}

TEST_CASE("LocalInput: --crlf widens each LF not after a CR, across reads") {
  struct Row {
    std::string in;
    std::string out;
  };
  const Row rows[] = {
      {"", ""},
      {"plain", "plain"},
      {"a\nb\n", "a\r\nb\r\n"},
      {"a\r\nb\r\n", "a\r\nb\r\n"},  // already CR LF: untouched
      {"\n\n\r\r\n\n", "\r\n\r\n\r\r\n\r\n"},
      {"GET /x\n", "GET /x\r\n"},
      {std::string("\0\n\xff\n", 4), std::string("\0\r\n\xff\r\n", 6)},
  };
  for (const Row& r : rows) {
    // Chunks of 2 read one byte at a time: a CR at the end of one read still counts for an LF
    // at the start of the next.
    for (size_t chunk : {2, 3, 5, 4096}) {
      CAPTURE(r.in);
      CAPTURE(chunk);
      FilledPipe p(r.in);
      LocalInput in(p.fd, {});
      in.send_crlf();
      int not_ready = 0;
      CHECK(read_all(in, chunk, not_ready) == r.out);
    }
  }
  // A script too.
  std::vector<InputPart> script = {{"a\r", -1, ""}, {"\nb\n", -1, ""}};
  LocalInput scripted(-1, script);
  scripted.send_crlf();
  int not_ready = 0;
  CHECK(read_all(scripted, 4096, not_ready) == "a\r\nb\r\n");
}
