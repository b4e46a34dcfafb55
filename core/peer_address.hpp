// The client address of each connection a listener accepts. OpenSSL 3.5 has no call that
// tells it (SSL_get_peer_addr came later), so the listener learns it from what it can see: the
// datagrams its socket delivers and sends (a filter BIO in front of the socket's BIO) and
// OpenSSL's new-pending-connection callback, which runs while an Initial packet creates a
// connection. The listener validates addresses (Retry), so only an Initial with a token creates
// one, and OpenSSL processes a batch of datagrams in order: the n-th connection created while a
// batch is processed came from the n-th *new* connection attempt in it. An attempt is known by
// the destination connection ID of its Initials, which all of its Initials share (the two
// datagrams of a ClientHello with X25519MLKEM768, retransmissions); an Initial addressed to an
// ID already paired with a connection, or to one the listener chose (the source ID of its own
// long-header packets: a client's later Initials use it), is no attempt. PeerPairing is that
// rule; PeerAddressBook feeds it. What is left to guess (an Initial with an invalid token in
// the same batch as another client's) gives a wrong address in the log, nothing else.
#pragma once

#include <openssl/ssl.h>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace quicc {

// The pairing rule, without OpenSSL (unit-tested).
class PeerPairing {
 public:
  // A datagram received from `source` (its text), or sent: its first packet's long header.
  void received(const unsigned char* data, size_t size, const std::string& source);
  void sent(const unsigned char* data, size_t size);
  // A new batch of received datagrams begins.
  void new_batch();
  // A connection was created while the current batch was processed: its client's address,
  // "" if none is left to give.
  std::string created();

 private:
  void remember(std::string id);
  struct Attempt {
    std::string id;  // destination connection ID of its Initials
    std::string source;
  };
  std::vector<Attempt> batch_;  // the current batch's new attempts, in order
  size_t next_ = 0;
  std::set<std::string> known_;       // IDs paired or chosen by the listener
  std::deque<std::string> known_order_;  // oldest first, to bound known_
};

class PeerAddressBook {
 public:
  PeerAddressBook() = default;
  PeerAddressBook(const PeerAddressBook&) = delete;
  PeerAddressBook& operator=(const PeerAddressBook&) = delete;

  // Gives `listener` the socket `fd` behind the filter, and registers the callback on `ctx`
  // (the book must outlive both). False if OpenSSL refused.
  bool install(SSL_CTX* ctx, SSL* listener, int fd);
  // The address of an accepted connection ("" if unknown); asked once per connection.
  std::string take(SSL* conn);

  // For the filter and the callback (OpenSSL calls them with its own lock held).
  PeerPairing& pairing() { return pairing_; }
  std::mutex& mutex() { return mutex_; }
  void connection_created(SSL* conn);

 private:
  std::mutex mutex_;
  PeerPairing pairing_;
  std::map<SSL*, std::string> created_;
};

}  // namespace quicc
