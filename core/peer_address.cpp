#include "peer_address.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>


#include <sys/socket.h>

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

// The datagram starts with a QUIC v1 Initial packet that carries a token (RFC 9000, 17.2.2).
bool initial_with_token(const unsigned char* p, size_t n) {
  if (n < 7 || (p[0] & 0xC0) != 0xC0 || ((p[0] >> 4) & 0x3) != 0) return false;
  if (p[1] == 0 && p[2] == 0 && p[3] == 0 && p[4] == 0) return false;  // version negotiation
  p += 5;
  n -= 5;
  for (int id = 0; id < 2; ++id) {  // destination, then source connection ID
    size_t length = p[0];
    if (n < 1 + length + 1) return false;
    p += 1 + length;
    n -= 1 + length;
  }
  uint64_t token = 0;
  return read_varint(p, n, token) && token > 0;
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

int filter_recvmmsg(BIO* b, BIO_MSG* msg, size_t stride, size_t num_msg, uint64_t flags,
                    size_t* processed) {
  int rc = BIO_recvmmsg(BIO_next(b), msg, stride, num_msg, flags, processed);
  if (rc != 1) return rc;
  std::vector<std::string> sources;
  for (size_t i = 0; i < *processed; ++i) {
    auto* m = reinterpret_cast<BIO_MSG*>(reinterpret_cast<unsigned char*>(msg) + i * stride);
    if (m->peer && initial_with_token(static_cast<const unsigned char*>(m->data), m->data_len))
      sources.push_back(address_text(m->peer));
  }
  static_cast<PeerAddressBook*>(BIO_get_data(b))->batch_received(std::move(sources));
  return rc;
}

int filter_sendmmsg(BIO* b, BIO_MSG* msg, size_t stride, size_t num_msg, uint64_t flags,
                    size_t* processed) {
  return BIO_sendmmsg(BIO_next(b), msg, stride, num_msg, flags, processed);
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

void PeerAddressBook::batch_received(std::vector<std::string> initial_sources) {
  std::lock_guard lock(mutex_);
  batch_ = std::move(initial_sources);
  next_ = 0;
}

void PeerAddressBook::connection_created(SSL* conn) {
  std::lock_guard lock(mutex_);
  created_[conn] = next_ < batch_.size() ? batch_[next_++] : std::string();
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
