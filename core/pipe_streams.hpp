// Which streams carry pipe mode's one duplex byte stream. Both drivers use this; it owns
// nothing (the Connection does) and does no I/O.
//
// Either side may speak first. A stream exists for the peer only once its opener sends a frame
// on it, so the side that has something to send (data, or the client's FIN on an empty input)
// opens a stream; a side that has not opened one adopts the first bidirectional stream the
// peer opens. When both open one before seeing the other's ("crossed streams"), each keeps
// sending on its own stream and receives on the peer's: each resets its sending half of the
// peer's stream with stream_code_crossed, so that the peer knows the receiving half of its own
// stream carries nothing and the data comes on the other one. No byte is sent twice and no
// ordering across streams is needed.
#pragma once

#include <openssl/ssl.h>

namespace quicc {

class PipeStreams {
 public:
  enum class Use {
    pipe,          // adopted: it carries both directions
    receive_only,  // crossed: it carries the peer's data; reset our half of it
    extra,         // not part of the pipe
  };

  // A bidirectional stream of ours was opened for the pipe.
  void opened(SSL* stream) { own_ = stream; }
  // A bidirectional stream the peer opened: what it is for.
  Use peer_opened(SSL* stream) {
    if (peer_ || (own_ && own_heard_)) return Use::extra;
    peer_ = stream;
    if (!own_) return Use::pipe;
    crossed_ = true;
    return Use::receive_only;
  }
  // The receiving half of our own stream was reset with stream_code_crossed: the peer opened
  // its own stream too, and its data comes there.
  void own_receive_moved() { own_moved_ = true; }
  // The peer sent data or its FIN on our own stream: it took that stream for the pipe, so a
  // bidirectional stream it opens later is an extra one (a terminal session's ~n), not a
  // crossed pipe stream (whose opener never sends on ours: it resets its half of it).
  void heard_on_own() { own_heard_ = true; }

  bool any() const { return own_ || peer_; }
  bool crossed() const { return crossed_; }
  SSL* own() const { return own_; }
  SSL* peer() const { return peer_; }
  // The stream we send on; null until one is opened or adopted.
  SSL* send() const { return own_ ? own_ : peer_; }
  // The stream whose receiving half carries the peer's data; null while there is none yet
  // (no stream, or ours was reset as crossed and the peer's has not arrived).
  SSL* receive() const {
    if (crossed_) return peer_;
    if (own_ && own_moved_) return nullptr;
    return send();
  }
  // Our stream's receiving half was reset as crossed and the peer's stream has not arrived.
  bool awaiting_peer_stream() const { return own_ && own_moved_ && !peer_; }
  // Our own stream's receiving half carries nothing (crossed streams).
  bool own_receive_unused() const { return own_ && (crossed_ || own_moved_); }

  // A stream is being freed (stop_reading): it no longer carries anything.
  void forget(SSL* stream) {
    if (own_ == stream) own_ = nullptr;
    if (peer_ == stream) peer_ = nullptr;
  }

 private:
  SSL* own_ = nullptr;
  SSL* peer_ = nullptr;
  bool crossed_ = false;
  bool own_moved_ = false;
  bool own_heard_ = false;
};

}  // namespace quicc
