// Which streams carry the pipe: adoption, crossed streams, and the extra streams a terminal
// session's ~n opens. PipeStreams only compares the pointers it is given.
#include <doctest/doctest.h>

#include "core/pipe_streams.hpp"

using namespace quicc;
using Use = PipeStreams::Use;

namespace {
SSL* fake(int i) { return reinterpret_cast<SSL*>(static_cast<uintptr_t>(0x1000 * i)); }
}  // namespace

TEST_CASE("PipeStreams: the peer's first bidirectional stream is the pipe unless we opened one") {
  PipeStreams adopted;
  CHECK(adopted.peer_opened(fake(1)) == Use::pipe);
  CHECK(adopted.send() == fake(1));
  CHECK(adopted.receive() == fake(1));
  CHECK(adopted.peer_opened(fake(2)) == Use::extra);  // the peer's ~n, or --peer-streams

  PipeStreams crossed;
  crossed.opened(fake(1));
  CHECK(crossed.peer_opened(fake(2)) == Use::receive_only);
  CHECK(crossed.crossed());
  CHECK(crossed.send() == fake(1));
  CHECK(crossed.receive() == fake(2));
}

TEST_CASE("PipeStreams: once the peer sent on our stream, its new streams are extras") {
  PipeStreams s;
  s.opened(fake(1));
  s.heard_on_own();  // the peer adopted our stream: a stream it opens now is its ~n's
  CHECK(s.peer_opened(fake(2)) == Use::extra);
  CHECK_FALSE(s.crossed());
  CHECK(s.send() == fake(1));
  CHECK(s.receive() == fake(1));
}
