// The perf protocol's framing (draft-banks-quic-performance-00), byte for byte from the draft's
// text: the request header (§2.3.1: 8 bytes, unsigned, network byte order), the server's
// reading of a request stream in any chunking, what it owes at the FIN (§2.3.1 for a short
// header, §2.3.2 for either kind of stream), and the client's count of the response.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/perf_framing.hpp"

using namespace quicc;

namespace {

using Bytes = std::vector<unsigned char>;
using Where = PerfReply::Where;

Bytes header_bytes(uint64_t size) {
  PerfHeader h = perf_request_header(size);
  return Bytes(h.begin(), h.end());
}

// A request stream: the 8 header bytes of 0x0102030405060708, then a 3-byte upload.
const Bytes request = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 'a', 'b', 'c'};

}  // namespace

TEST_CASE("perf: the ALPN is \"perf\" (§2.1)") {
  CHECK(perf_alpn == std::string_view("perf"));
  CHECK(perf_header_size == 8);
  CHECK(perf_unlimited == 0xFFFFFFFFFFFFFFFFu);
}

TEST_CASE("perf_request_header: 8 bytes, unsigned, most significant first (§2.3.1)") {
  struct Row {
    uint64_t size;
    Bytes wire;
  };
  const Row rows[] = {
      // "An encoded value of zero is perfectly legal"
      {0, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      {1, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}},
      {255, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF}},
      {256, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00}},
      {1000000, {0x00, 0x00, 0x00, 0x00, 0x00, 0x0F, 0x42, 0x40}},
      {0x0102030405060708u, {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}},
      // Unsigned: the top bit is a size, not a sign.
      {0x8000000000000000u, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
      // MAX_UINT64, "practically used to indicate an unlimited server response"
      {0xFFFFFFFFFFFFFFFFu, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
  };
  for (const Row& r : rows) {
    CAPTURE(r.size);
    CHECK(header_bytes(r.size) == r.wire);
    // And back: the server reads the size the client wrote.
    PerfRequestParser p(true);
    p.feed(r.wire.data(), r.wire.size());
    CHECK(p.header_complete());
    CHECK(p.requested() == r.size);
    CHECK(p.upload_bytes() == 0);
  }
}

TEST_CASE("PerfRequestParser: one byte at a time, the header completes at its 8th byte") {
  PerfRequestParser p(true);
  const size_t header_after[] = {1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 8};
  const bool complete_after[] = {false, false, false, false, false, false,
                                 false, true,  true,  true,  true};
  const uint64_t upload_after[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3};
  for (size_t i = 0; i < request.size(); ++i) {
    CAPTURE(i);
    p.feed(&request[i], 1);
    CHECK(p.header_bytes() == header_after[i]);
    CHECK(p.header_complete() == complete_after[i]);
    // Nothing is promised before the 8th byte: a partial size is no size.
    CHECK(p.requested() == (complete_after[i] ? 0x0102030405060708u : 0u));
    CHECK(p.upload_bytes() == upload_after[i]);
  }
  PerfRequestParser::End end = p.fin();
  CHECK_FALSE(end.error);
  CHECK(end.reply.where == Where::same_stream);
  CHECK(end.reply.bytes == 0x0102030405060708u);
}

TEST_CASE("PerfRequestParser: one chunk, and every split in two, read alike") {
  // Split points 0 and 11 are a single chunk (and an empty one).
  for (size_t split = 0; split <= request.size(); ++split) {
    CAPTURE(split);
    PerfRequestParser p(true);
    p.feed(request.data(), split);
    p.feed(request.data() + split, request.size() - split);
    CHECK(p.header_bytes() == 8);
    CHECK(p.requested() == 0x0102030405060708u);
    CHECK(p.upload_bytes() == 3);
  }
}

TEST_CASE("PerfRequestParser: the upload is every byte after the header (§3.1's upload test)") {
  // "encodes a zero server response size, sends the upload payload and then closes (FIN)"
  const Bytes upload_test = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 'x', 'y', 'z', 0x00,
                             0xFF};
  PerfRequestParser p(true);
  p.feed(upload_test.data(), 4);
  p.feed(upload_test.data() + 4, 6);
  p.feed(upload_test.data() + 10, 0);
  p.feed(upload_test.data() + 10, 3);
  CHECK(p.requested() == 0);
  CHECK(p.upload_bytes() == 5);
  PerfRequestParser::End end = p.fin();
  CHECK_FALSE(end.error);
  // "If no data is requested by the client, the server merely closes its side of the stream."
  CHECK(end.reply.where == Where::same_stream);
  CHECK(end.reply.bytes == 0);
}

TEST_CASE("PerfRequestParser: what the server owes at the FIN, per kind of stream (§2.3.2)") {
  struct Row {
    const char* name;
    bool bidirectional;
    Bytes stream;
    Where where;
    uint64_t bytes;
  };
  const Row rows[] = {
      {"bidirectional, 5 bytes: on the same stream", true,
       {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05}, Where::same_stream, 5},
      {"bidirectional, nothing: a FIN alone", true,
       {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, Where::same_stream, 0},
      {"unidirectional, 5 bytes: a new unidirectional stream", false,
       {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05}, Where::new_unidirectional_stream, 5},
      {"unidirectional, nothing: no action", false,
       {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 'u', 'p'}, Where::none, 0},
      {"unlimited: until the client's STOP_SENDING", true,
       {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, Where::same_stream,
       0xFFFFFFFFFFFFFFFFu},
      {"unlimited on a unidirectional stream", false,
       {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, Where::new_unidirectional_stream,
       0xFFFFFFFFFFFFFFFFu},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    PerfRequestParser p(r.bidirectional);
    p.feed(r.stream.data(), r.stream.size());
    PerfRequestParser::End end = p.fin();
    CHECK_FALSE(end.error);
    CHECK(end.reply.where == r.where);
    CHECK(end.reply.bytes == r.bytes);
  }
}

TEST_CASE("PerfRequestParser: a FIN before the 8 header bytes is an error, answered by a close") {
  struct Row {
    bool bidirectional;
    Bytes stream;
    Where where;
    const char* error;
  };
  // §2.3.1: "should just be ignored, and gracefully closed on its end (if applicable)": our
  // half of a bidirectional stream gets a FIN alone; a unidirectional stream has no half of
  // ours. Even bytes that would ask for a response ask for nothing when the header is short.
  const Row rows[] = {
      {true, {}, Where::same_stream, "the request ended after 0 of its 8 header bytes"},
      {true, {0x00, 0x00, 0x01}, Where::same_stream,
       "the request ended after 3 of its 8 header bytes"},
      {true, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, Where::same_stream,
       "the request ended after 7 of its 8 header bytes"},
      {false, {}, Where::none, "the request ended after 0 of its 8 header bytes"},
      {false, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}, Where::none,
       "the request ended after 7 of its 8 header bytes"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.error);
    CAPTURE(r.bidirectional);
    PerfRequestParser p(r.bidirectional);
    for (unsigned char b : r.stream) p.feed(&b, 1);
    CHECK_FALSE(p.header_complete());
    CHECK(p.requested() == 0);
    CHECK(p.upload_bytes() == 0);
    PerfRequestParser::End end = p.fin();
    REQUIRE(end.error);
    CHECK(*end.error == r.error);
    CHECK(end.reply.where == r.where);
    CHECK(end.reply.bytes == 0);
  }
}

TEST_CASE("PerfResponseCounter: exactly the requested bytes by the FIN, neither fewer nor more") {
  struct Row {
    const char* name;
    uint64_t requested;
    std::vector<uint64_t> chunks;
    bool within;               // what the last add() said
    const char* error;         // before the FIN; "" for none
    const char* error_at_fin;  // "" for none
  };
  const Row rows[] = {
      {"exact, one chunk", 10, {10}, true, "", ""},
      {"exact, in pieces", 10, {1, 0, 4, 5}, true, "", ""},
      {"nothing asked, nothing sent", 0, {}, true, "", ""},
      {"nothing asked, nothing sent (empty chunks)", 0, {0, 0}, true, "", ""},
      {"too short", 10, {4, 5}, true, "",
       "the server's FIN came after 9 bytes of the 10 requested"},
      {"one short", 2, {1}, true, "", "the server's FIN came after 1 byte of the 2 requested"},
      {"nothing sent", 1000000, {}, true, "",
       "the server's FIN came after 0 bytes of the 1000000 requested"},
      {"too long", 10, {6, 5}, false, "the server sent 11 bytes, more than the 10 requested",
       "the server sent 11 bytes, more than the 10 requested"},
      {"anything for nothing", 0, {1}, false,
       "the server sent 1 byte, more than the 0 requested",
       "the server sent 1 byte, more than the 0 requested"},
      // An unlimited response ends with the client's STOP_SENDING; a FIN cuts it short.
      {"unlimited, FIN", 0xFFFFFFFFFFFFFFFFu, {4096}, true, "",
       "the server's FIN came after 4096 bytes of the 18446744073709551615 requested"},
      // The count saturates rather than wrap around to "too few".
      {"saturated", 5, {0xFFFFFFFFFFFFFFFFu, 0xFFFFFFFFFFFFFFFFu}, false,
       "the server sent 18446744073709551615 bytes, more than the 5 requested",
       "the server sent 18446744073709551615 bytes, more than the 5 requested"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    PerfResponseCounter c(r.requested);
    bool within = true;
    for (uint64_t n : r.chunks) within = c.add(n);
    CHECK(within == r.within);
    CHECK(c.error().value_or("") == std::string(r.error));
    CHECK(c.error_at_fin().value_or("") == std::string(r.error_at_fin));
  }
}

TEST_CASE("PerfResponseCounter: too many is known at the byte that crosses the request") {
  PerfResponseCounter c(3);
  CHECK(c.add(1));
  CHECK(c.add(2));
  CHECK(c.received() == 3);
  CHECK_FALSE(c.error());
  CHECK_FALSE(c.add(1));
  CHECK(c.received() == 4);
  CHECK(c.requested() == 3);
  CHECK(c.error().value_or("") ==
        std::string("the server sent 4 bytes, more than the 3 requested"));
}
