// The framing of the QUIC performance protocol, draft-banks-quic-performance-00 (ALPN "perf"),
// without I/O: the 8 bytes a client's request stream starts with, the server's reading of a
// request stream (header, upload, what it owes at the client's FIN), and the client's check of
// the response. The drivers move the bytes; these classes only count them and decide.
//
// The draft's rules, as implemented here (section numbers of -00):
// - §2.1: 'The ALPN used by the QUIC performance protocol is "perf".'
// - §2.3: every test is one client stream: "The client opens a stream. The client encodes the
//   size of the requested server response. The client sends any data it wishes to. The client
//   cleanly closes the stream with a FIN." The server "processes the encoded response size",
//   "drains the rest of the client data" and "then sends any response payload that was
//   requested". The draft has no MUST on waiting for the FIN (an earlier text of -00, in its
//   author's repository, left it open: "Should the server wait for FIN before replying?");
//   msquic, lsquic, picoquic and quic-go's perf all wait for it, and so does
//   PerfRequestParser: the reply is known only at fin().
// - §2.3.1: "the first 8 bytes of the stream data ... encode a 64-bit unsigned integer in
//   network byte order to indicate the length of data the client wishes the server to respond
//   with. An encoded value of zero is perfectly legal, and a value of MAX_UINT64
//   (0xFFFFFFFFFFFFFFFF) is practically used to indicate an unlimited server response. The
//   client may then cancel the transfer at its convenience with a STOP_SENDING frame."
// - §2.3.1: "any stream that is closed before all 8 bytes are received should just be ignored,
//   and gracefully closed on its end (if applicable)." It names no error code in -00.
// - §2.3.2: on a bidirectional stream "the server sends the requested data on the same stream.
//   If no data is requested by the client, the server merely closes its side of the stream."
//   On a unidirectional stream "the server opens a new unidirectional stream to send the
//   requested data. If no data is requested by the client, the server need take no action."
//   The draft says nothing that ties such a server stream to its request: with several
//   unidirectional requests in flight, a client can only check their sum.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quicc {

inline constexpr std::string_view perf_alpn = "perf";            // §2.1
inline constexpr size_t perf_header_size = 8;                     // §2.3.1
inline constexpr uint64_t perf_unlimited = 0xFFFFFFFFFFFFFFFFu;  // §2.3.1: "unlimited"

using PerfHeader = std::array<unsigned char, perf_header_size>;

// The first bytes of a client's request stream: `response_size` big-endian (§2.3.1). An upload
// follows it (§3.1: "encodes a zero server response size, sends the upload payload and then
// closes (FIN) the stream").
PerfHeader perf_request_header(uint64_t response_size);

// What the server owes a request stream once the client's FIN came (§2.3.1, §2.3.2): `bytes`
// of response on `where`, then a FIN. same_stream with 0 bytes is a FIN alone (the draft's
// "merely closes its side"); none sends nothing at all. perf_unlimited bytes: send until the
// client's STOP_SENDING.
struct PerfReply {
  enum class Where { none, same_stream, new_unidirectional_stream };
  Where where = Where::none;
  uint64_t bytes = 0;
};

// The server's reading of one request stream: fed its data in order, in chunks of any size (a
// byte at a time included), then told of its FIN.
class PerfRequestParser {
 public:
  // `bidirectional`: whether the client's stream has a half the server can send on (§2.3.2).
  explicit PerfRequestParser(bool bidirectional) : bidirectional_(bidirectional) {}

  // A chunk of the stream's data, in order, before fin().
  void feed(const unsigned char* data, size_t n);

  bool header_complete() const { return header_bytes_ == perf_header_size; }
  size_t header_bytes() const { return header_bytes_; }  // of the header's 8, so far
  // The response size the client asked for; 0 until header_complete().
  uint64_t requested() const { return header_complete() ? requested_ : 0; }
  // The bytes after the header: the client's upload.
  uint64_t upload_bytes() const { return upload_bytes_; }

  // The client's FIN: the reply it is owed, and the request's fault if the FIN came before the
  // 8 bytes of the header. Such a stream is a protocol error the caller reports (a count, a
  // log line); the draft only says to ignore it and close our side gracefully, which the reply
  // does: a FIN alone on a bidirectional stream, nothing on a unidirectional one.
  struct End {
    PerfReply reply;
    std::optional<std::string> error;  // "the request ended after 3 of its 8 header bytes"
  };
  End fin() const;

 private:
  bool bidirectional_;
  size_t header_bytes_ = 0;
  uint64_t requested_ = 0;  // the header's bytes so far, most significant first
  uint64_t upload_bytes_ = 0;
};

// The client's count of one response: exactly the requested number of bytes by the server's
// FIN, neither fewer nor more. The draft asks for "the length of data the client wishes the
// server to respond with" (§2.3.1) and allows no slack; quic-go's perf client and picoquic's
// quicperf fail a response on either side of that number, and so does this.
class PerfResponseCounter {
 public:
  explicit PerfResponseCounter(uint64_t requested) : requested_(requested) {}

  // Bytes of the response as they arrive. False once more than the request came: the response
  // is wrong whatever follows, so the caller need not wait for the FIN.
  bool add(uint64_t n);

  uint64_t requested() const { return requested_; }
  uint64_t received() const { return received_; }

  // The verdict at the server's FIN: nothing when exactly the requested bytes came, else what
  // went wrong, with the numbers. A perf_unlimited response has no right FIN: its client ends
  // it with STOP_SENDING (§2.3.1) and asks for no verdict.
  std::optional<std::string> error_at_fin() const;
  // The error so far, before any FIN: more bytes than requested already came.
  std::optional<std::string> error() const;

 private:
  uint64_t requested_;
  uint64_t received_ = 0;
};

}  // namespace quicc
