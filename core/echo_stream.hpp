// Echoes one QUIC stream back to its sender, for `--listen --echo` under the non-blocking
// driver. A unidirectional stream from the peer has no way back: it is read and discarded.
#pragma once

#include <openssl/ssl.h>

#include "config.hpp"
#include "events.hpp"
#include "status.hpp"
#include "stream_writer.hpp"

namespace quicc {

class EchoStream {
 public:
  // `stream` stays owned by its Connection.
  EchoStream(SSL* stream, const Config& config, Emitter& emitter);

  // Moves what can move now; false when the stream is over (finished, reset, or its
  // connection gone); `outcome` then says why, if it was not a clean finish.
  bool step(Outcome& outcome);
  bool busy() const { return busy_; }
  uint64_t echoed() const { return echoed_; }
  SSL* ssl() const { return stream_; }

 private:
  SSL* stream_;
  Emitter& emitter_;
  bool bidi_;
  StreamWriter pending_;
  bool fin_received_ = false;
  bool busy_ = false;
  uint64_t echoed_ = 0;
};

}  // namespace quicc
