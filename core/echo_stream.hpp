// Echoes one QUIC stream back to its sender, for `--listen --echo`.
#pragma once

#include <openssl/ssl.h>

#include "events.hpp"
#include "stream_pump.hpp"

namespace quicc {

class EchoStream {
 public:
  EchoStream(SSL* stream, Emitter& emitter) : stream_(stream), emitter_(emitter) {}
  EchoStream(const EchoStream&) = delete;
  EchoStream& operator=(const EchoStream&) = delete;
  ~EchoStream() { SSL_free(stream_); }

  // Moves what can move now; false when the stream failed (reset, connection gone).
  bool step(Outcome& outcome);
  // FIN received and echoed, and the FIN sent back.
  bool finished() const { return fin_sent_; }
  bool busy() const { return busy_; }
  uint64_t echoed() const { return echoed_; }

 private:
  SSL* stream_;
  Emitter& emitter_;
  StreamWriter pending_;
  bool fin_received_ = false;
  bool fin_sent_ = false;
  bool busy_ = false;
  uint64_t echoed_ = 0;
};

}  // namespace quicc
