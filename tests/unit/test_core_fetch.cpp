// FetchPlan: the rules of --get both drivers obey, as tables: which request starts next and
// how many are in flight, what completes a run, what a failure or the connection's end costs.
// ResponseFile: a response is kept whole or removed.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/fetch.hpp"

using namespace quicc;

namespace {

Config config_with(std::vector<std::string> paths, std::string dir = "") {
  Config c;
  c.requests = std::move(paths);
  c.output_dir = std::move(dir);
  return c;
}

// Everything a request body gives, written `chunk` bytes at a time.
std::string body_bytes(RequestBody body, size_t chunk) {
  std::string all;
  while (!body.done()) {
    size_t n = body.size(chunk);
    REQUIRE(n > 0);
    all.append(reinterpret_cast<const char*>(body.data()), n);
    body.advance(n);
  }
  return all;
}

}  // namespace

TEST_CASE("FetchPlan: targets are the output directory and the path's last component") {
  FetchPlan plan(config_with({"/m/1", "/x", "/a/b/c.txt"}, "/tmp/d"), 0);
  CHECK(plan.request(0).target == "/tmp/d/1");
  CHECK(plan.request(1).target == "/tmp/d/x");
  CHECK(plan.request(2).target == "/tmp/d/c.txt");
  CHECK(body_bytes(plan.request_body(0), 1000) == "GET /m/1\r\n");
  Config one = config_with({"/x"});
  one.output_file = "/tmp/out";
  CHECK(FetchPlan(one, 0).request(0).target == "/tmp/out");
  CHECK(FetchPlan(config_with({"/x"}), 0).request(0).target.empty());  // the output fd
}

TEST_CASE("FetchPlan: at most the limit in flight; put back first; finished when all are") {
  struct Row {
    uint64_t limit;
    size_t requests;
    size_t first_wave;  // started before anything completes
  };
  const Row rows[] = {{0, 5, 5}, {1, 5, 1}, {3, 5, 3}, {3, 2, 2}, {100, 2000, 100}};
  for (const Row& r : rows) {
    CAPTURE(r.limit);
    CAPTURE(r.requests);
    std::vector<std::string> paths;
    for (size_t i = 0; i < r.requests; ++i) paths.push_back("/" + std::to_string(i));
    FetchPlan plan(config_with(paths), r.limit);
    size_t started = 0;
    while (plan.start_next()) ++started;
    CHECK(started == r.first_wave);
    CHECK(plan.in_flight() == r.first_wave);
    CHECK_FALSE(plan.finished());
    // Completing them one at a time lets the rest start, in order.
    size_t done = 0;
    std::vector<size_t> order;
    for (size_t i = 0; i < r.first_wave; ++i) order.push_back(i);
    while (done < order.size()) {
      plan.completed(order[done++], 10);
      if (auto next = plan.start_next()) order.push_back(*next);
      CHECK(plan.in_flight() <= (r.limit ? r.limit : r.requests));
    }
    CHECK(order.size() == r.requests);
    for (size_t i = 0; i < order.size(); ++i) CHECK(order[i] == i);
    CHECK(plan.finished());
    CHECK(plan.all_done());
    CHECK(plan.outcome().ok());
    CHECK(plan.bytes() == 10 * r.requests);
  }

  // At the peer's stream limit a request goes back and is the next to start.
  FetchPlan plan(config_with({"/a", "/b", "/c"}), 0);
  auto a = plan.start_next();
  auto b = plan.start_next();
  REQUIRE(a);
  REQUIRE(b);
  plan.put_back(*b);
  CHECK(plan.in_flight() == 1);
  CHECK(plan.start_next() == b);
  CHECK(plan.start_next() == std::optional<size_t>(2));
  CHECK_FALSE(plan.start_next());
}

TEST_CASE("FetchPlan: failures and the connection's end, the run's one outcome") {
  SUBCASE("a reset names its path; the others go on; the count of losses is told") {
    FetchPlan plan(config_with({"/a", "/b", "/c"}), 0);
    while (plan.start_next()) {}
    plan.failed(1, Status::stream_reset, "peer reset the stream (code 0x10) after 0 bytes");
    CHECK_FALSE(plan.finished());
    plan.completed(0, 5);
    plan.completed(2, 5);
    CHECK(plan.finished());
    CHECK_FALSE(plan.all_done());
    Outcome o = plan.outcome();
    CHECK(o.status == Status::stream_reset);
    CHECK(o.message == "response to /b: peer reset the stream (code 0x10) after 0 bytes");
  }
  SUBCASE("several lost: the first in request order is told, whatever came first in time") {
    FetchPlan plan(config_with({"/a", "/b", "/c"}), 0);
    while (plan.start_next()) {}
    plan.failed(2, Status::io_error, "late");
    plan.failed(1, Status::stream_reset, "early");
    plan.completed(0, 1);
    CHECK(plan.outcome().status == Status::stream_reset);
    CHECK(plan.outcome().message == "response to /b: early (2 of 3 responses lost)");
  }
  SUBCASE("the connection ends: in flight and waiting requests are lost, with its cause") {
    FetchPlan plan(config_with({"/a", "/b", "/c"}), 1);
    plan.start_next();
    plan.completed(0, 1);
    plan.start_next();
    plan.connection_ended({Status::peer_app_error, "peer closed: application error 0x5"});
    CHECK(plan.finished());
    CHECK(plan.state(1) == FetchPlan::State::failed);
    CHECK(plan.state(2) == FetchPlan::State::failed);
    Outcome o = plan.outcome();
    CHECK(o.status == Status::peer_app_error);
    CHECK(o.message ==
          "response to /b: peer closed: application error 0x5 (2 of 3 responses lost)");
  }
  SUBCASE("a clean close before a response's FIN is incomplete, never success") {
    FetchPlan plan(config_with({"/a"}), 0);
    plan.start_next();
    plan.connection_ended({});
    Outcome o = plan.outcome();
    CHECK(o.status == Status::incomplete);
    CHECK(o.message == "response to /a: the connection closed before its FIN");
  }
  SUBCASE("the end after every response changes nothing") {
    FetchPlan plan(config_with({"/a"}), 0);
    plan.start_next();
    plan.completed(0, 3);
    plan.connection_ended({Status::peer_app_error, "x"});
    CHECK(plan.outcome().ok());
  }
  SUBCASE("stopped (an interrupt): nothing more starts") {
    FetchPlan plan(config_with({"/a", "/b"}), 0);
    plan.start_next();
    plan.stop();
    CHECK_FALSE(plan.start_next());
    CHECK_FALSE(plan.finished());  // one still in flight
    plan.completed(0, 1);
    CHECK(plan.finished());
    CHECK(plan.outcome().status == Status::incomplete);
  }
}

TEST_CASE("ResponseFile: kept whole, or removed when the response failed") {
  char dir[] = "/tmp/quicc-unit-fetch-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string kept = std::string(dir) + "/kept", lost = std::string(dir) + "/lost";
  std::string error;
  {
    ResponseFile f;
    REQUIRE(f.open(kept, -1, error));
    const unsigned char bytes[] = {'a', 0, 'b'};
    REQUIRE(f.write(bytes, 3, error));
    f.keep();
  }
  CHECK(std::filesystem::file_size(kept) == 3);
  {
    ResponseFile f;
    REQUIRE(f.open(lost, -1, error));
    const unsigned char bytes[] = {'x'};
    REQUIRE(f.write(bytes, 1, error));
    f.discard();
  }
  CHECK_FALSE(std::filesystem::exists(lost));
  ResponseFile bad;
  CHECK_FALSE(bad.open(std::string(dir) + "/no/such/dir/f", -1, error));
  CHECK(error.starts_with("cannot write '"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("FetchPlan: a perf client's requests: the 8-byte size, the upload, one per stream") {
  Config config;
  config.perf_client = Config::PerfClient{300000, 0x0102030405060708u, 3, {}};
  FetchPlan plan(config, 3);
  CHECK(plan.perf());
  REQUIRE(plan.size() == 3);
  CHECK(plan.request(2).path == "perf request 3");
  for (size_t chunk : {size_t{1} << 20, size_t{5}, size_t{8}}) {
    CAPTURE(chunk);
    RequestBody body = plan.request_body(0);
    CHECK(body.remaining() == 8 + 300000);
    std::string bytes = body_bytes(body, chunk);
    REQUIRE(bytes.size() == 8 + 300000);
    CHECK(bytes.substr(0, 8) == std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
    CHECK(bytes.find_first_not_of('\0', 8) == std::string::npos);
  }
  // The header counts as request bytes, not as upload.
  RequestBody body = plan.request_body(1);
  body.advance(body.size(100));
  CHECK(body.filler_written() == 0);
  body.advance(body.size(100));
  CHECK(body.filler_written() == 100);
  // A size-only request: the header alone.
  config.perf_client = Config::PerfClient{0, 0, 1, {}};
  CHECK(body_bytes(FetchPlan(config, 1).request_body(0), 64) == std::string(8, '\0'));
}

TEST_CASE("FetchPlan: a perf client's --duration: requests follow each other until it passes") {
  Config config;
  config.perf_client = Config::PerfClient{0, 10, 2, std::chrono::milliseconds(1000)};
  FetchPlan plan(config, 2);
  plan.repeat_until(Clock::now() + std::chrono::hours(1));
  auto a = plan.start_next(), b = plan.start_next();
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(plan.start_next());  // two at once
  plan.completed(*a, 10);
  auto c = plan.start_next();  // a third, made on demand
  REQUIRE(c);
  CHECK(*c == 2);
  CHECK(plan.size() == 3);
  CHECK_FALSE(plan.finished());
  plan.completed(*b, 10);
  plan.completed(*c, 10);
  CHECK_FALSE(plan.finished());  // time is left: more will start
  plan.repeat_until(Clock::now() - std::chrono::milliseconds(1));
  CHECK(plan.finished());
  CHECK_FALSE(plan.start_next());
  CHECK(plan.outcome().ok());
  CHECK(plan.done() == 3);
}
