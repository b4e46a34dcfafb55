#include "peer_address.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>


#include <sys/socket.h>

#include <initializer_list>

namespace quicc {

namespace {

// A QUIC variable-length integer (RFC 9000, 16); false if it does not fit in `n` bytes.
bool read_varint(const unsigned char*& p, size_t& n, uint64_t& value) {
  if (n == 0) return false;
  size_t length = size_t{1} << (p[0] >> 6);
  if (n < length) return false;
  value = p[0] & 0x3f;
  for (size_t i = 1; i < length; ++i) value = (value << 8) | p[i];
  p += length;
  n -= length;
  return true;
}

// A long-header packet's fields (RFC 9000, 17.2); false if `p` does not start with one.
struct LongHeader {
  unsigned type = 0;  // 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry
  std::string dcid, scid;
  const unsigned char* rest = nullptr;  // after the source connection ID
  size_t rest_size = 0;
};

bool read_long_header(const unsigned char* p, size_t n, LongHeader& h) {
  if (n < 7 || (p[0] & 0x80) == 0) return false;
  if (p[1] == 0 && p[2] == 0 && p[3] == 0 && p[4] == 0) return false;  // version negotiation
  h.type = (p[0] >> 4) & 0x3;
  p += 5;
  n -= 5;
  for (std::string* id : {&h.dcid, &h.scid}) {
    size_t length = p[0];
    if (length > 20 || n < 1 + length) return false;
    id->assign(reinterpret_cast<const char*>(p + 1), length);
    p += 1 + length;
    n -= 1 + length;
  }
  h.rest = p;
  h.rest_size = n;
  return true;
}

// "192.0.2.1:4433" or "[2001:db8::1]:4433", as SocketAddress::to_string writes them.
std::string address_text(const BIO_ADDR* address) {
  int family = BIO_ADDR_family(address);
  if (family != AF_INET && family != AF_INET6) return {};
  char* host = BIO_ADDR_hostname_string(address, 1);
  char* port = BIO_ADDR_service_string(address, 1);
  std::string out;
  if (host && port)
    out = family == AF_INET6 ? "[" + std::string(host) + "]:" + port : std::string(host) + ":" + port;
  OPENSSL_free(host);
  OPENSSL_free(port);
  return out;
}

BIO_MSG* message(BIO_MSG* msg, size_t stride, size_t i) {
  return reinterpret_cast<BIO_MSG*>(reinterpret_cast<unsigned char*>(msg) + i * stride);
}

int filter_recvmmsg(BIO* b, BIO_MSG* msg, size_t stride, size_t num_msg, uint64_t flags,
                    size_t* processed) {
  int rc = BIO_recvmmsg(BIO_next(b), msg, stride, num_msg, flags, processed);
  if (rc != 1) return rc;
  auto* book = static_cast<PeerAddressBook*>(BIO_get_data(b));
  std::lock_guard lock(book->mutex());
  book->pairing().new_batch();
  for (size_t i = 0; i < *processed; ++i) {
    BIO_MSG* m = message(msg, stride, i);
    if (m->peer)
      book->pairing().received(static_cast<const unsigned char*>(m->data), m->data_len,
                               address_text(m->peer));
  }
  return rc;
}

int filter_sendmmsg(BIO* b, BIO_MSG* msg, size_t stride, size_t num_msg, uint64_t flags,
                    size_t* processed) {
  int rc = BIO_sendmmsg(BIO_next(b), msg, stride, num_msg, flags, processed);
  if (rc != 1) return rc;
  auto* book = static_cast<PeerAddressBook*>(BIO_get_data(b));
  std::lock_guard lock(book->mutex());
  for (size_t i = 0; i < *processed; ++i) {
    BIO_MSG* m = message(msg, stride, i);
    book->pairing().sent(static_cast<const unsigned char*>(m->data), m->data_len);
  }
  return rc;
}

long filter_ctrl(BIO* b, int cmd, long num, void* ptr) {
  return BIO_ctrl(BIO_next(b), cmd, num, ptr);
}

int filter_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

const BIO_METHOD* filter_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_FILTER, "quicc peer addresses");
    if (!m) return m;
    BIO_meth_set_create(m, filter_create);
    BIO_meth_set_ctrl(m, filter_ctrl);
    BIO_meth_set_recvmmsg(m, filter_recvmmsg);
    BIO_meth_set_sendmmsg(m, filter_sendmmsg);
    return m;
  }();
  return method;
}

int on_pending_connection(SSL_CTX*, SSL* conn, void* book) {
  static_cast<PeerAddressBook*>(book)->connection_created(conn);
  return 1;
}

}  // namespace

bool PeerAddressBook::install(SSL_CTX* ctx, SSL* listener, int fd) {
  const BIO_METHOD* method = filter_method();
  if (!method) return false;
  BIO* socket = BIO_new_dgram(fd, BIO_NOCLOSE);
  BIO* filter = BIO_new(method);
  if (!socket || !filter) {
    BIO_free(socket);
    BIO_free(filter);
    return false;
  }
  BIO_set_data(filter, this);
  BIO_push(filter, socket);
  SSL_set_bio(listener, filter, filter);  // one reference, taken by the listener
  SSL_CTX_set_new_pending_conn_cb(ctx, on_pending_connection, this);
  return true;
}

void PeerPairing::received(const unsigned char* data, size_t size, const std::string& source) {
  LongHeader h;
  if (!read_long_header(data, size, h) || h.type != 0) return;
  const unsigned char* p = h.rest;
  size_t n = h.rest_size;
  uint64_t token = 0;
  if (!read_varint(p, n, token) || token == 0) return;  // no token: it creates nothing
  if (known_.count(h.dcid)) return;
  for (const Attempt& a : batch_)
    if (a.id == h.dcid) return;  // the rest of an attempt already in this batch
  batch_.push_back({h.dcid, source});
}

void PeerPairing::sent(const unsigned char* data, size_t size) {
  LongHeader h;
  // A Retry's source ID is the one the client's next attempt is addressed to: not known yet.
  if (read_long_header(data, size, h) && h.type != 3 && !h.scid.empty()) remember(h.scid);
}

void PeerPairing::new_batch() {
  batch_.clear();
  next_ = 0;
}

std::string PeerPairing::created() {
  if (next_ >= batch_.size()) return {};
  Attempt& a = batch_[next_++];
  remember(a.id);
  return a.source;
}

void PeerPairing::remember(std::string id) {
  constexpr size_t known_max = 65536;
  if (!known_.insert(id).second) return;
  known_order_.push_back(std::move(id));
  if (known_order_.size() > known_max) {
    known_.erase(known_order_.front());
    known_order_.pop_front();
  }
}

void PeerAddressBook::connection_created(SSL* conn) {
  std::lock_guard lock(mutex_);
  created_[conn] = pairing_.created();
}

std::string PeerAddressBook::take(SSL* conn) {
  std::lock_guard lock(mutex_);
  auto it = created_.find(conn);
  if (it == created_.end()) return {};
  std::string address = std::move(it->second);
  created_.erase(it);
  return address;
}

}  // namespace quicc
