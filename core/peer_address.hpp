// The client address of each connection a listener accepts. OpenSSL 3.5 has no call that
// tells it (SSL_get_peer_addr came later), so the listener learns it from two things it can
// see: the datagrams its socket delivers (a filter BIO in front of the socket's BIO notes the
// source of every Initial packet that carries a token) and OpenSSL's new-pending-connection
// callback, which runs while such a packet creates a connection. The listener validates
// addresses (Retry), so a connection is only ever created by an Initial with a token; the n-th
// connection created while one batch of datagrams is processed came from the n-th Initial with
// a token in that batch. (A repeated Initial, or one with an invalid token, in the same batch
// as another client's can mislead it: the address is then a guess, used for nothing but the
// log.)
#pragma once

#include <openssl/ssl.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace quicc {

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
  void batch_received(std::vector<std::string> initial_sources);
  void connection_created(SSL* conn);

 private:
  std::mutex mutex_;
  std::vector<std::string> batch_;  // sources of the last batch's Initials with a token
  size_t next_ = 0;
  std::map<SSL*, std::string> created_;
};

}  // namespace quicc
