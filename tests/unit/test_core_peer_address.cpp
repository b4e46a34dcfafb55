// core/peer_address.cpp's PeerPairing: which client address each connection a listener
// creates came from, told apart by the destination connection IDs of the Initials in a batch.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/peer_address.hpp"

using quicc::PeerPairing;

namespace {

// A long-header packet of QUIC v1: type 0 Initial (with a token, or none), 2 Handshake, 3 Retry.
std::vector<unsigned char> packet(unsigned type, const std::string& dcid, const std::string& scid,
                                  const std::string& token = "t") {
  std::vector<unsigned char> p{static_cast<unsigned char>(0xC0 | (type << 4)), 0, 0, 0, 1};
  p.push_back(static_cast<unsigned char>(dcid.size()));
  p.insert(p.end(), dcid.begin(), dcid.end());
  p.push_back(static_cast<unsigned char>(scid.size()));
  p.insert(p.end(), scid.begin(), scid.end());
  if (type == 0) {
    p.push_back(static_cast<unsigned char>(token.size()));  // a 1-byte varint
    p.insert(p.end(), token.begin(), token.end());
  }
  p.resize(p.size() + 40, 0xAA);  // length, packet number, payload: not read
  return p;
}

void receive(PeerPairing& pairing, const std::vector<unsigned char>& d, const std::string& from) {
  pairing.received(d.data(), d.size(), from);
}

}  // namespace

TEST_CASE("core::PeerPairing: each connection gets its own client's address") {
  PeerPairing pairing;

  SUBCASE("two ClientHellos of two datagrams each, interleaved in one batch") {
    pairing.new_batch();
    receive(pairing, packet(0, "cidA", "a"), "A:1");
    receive(pairing, packet(0, "cidB", "b"), "B:2");
    receive(pairing, packet(0, "cidA", "a"), "A:1");
    receive(pairing, packet(0, "cidB", "b"), "B:2");
    CHECK(pairing.created() == "A:1");
    CHECK(pairing.created() == "B:2");
    CHECK(pairing.created().empty());  // nothing left to give
  }
  SUBCASE("the rest of a ClientHello in the next batch, beside a new client") {
    pairing.new_batch();
    receive(pairing, packet(0, "cidA", "a"), "A:1");
    CHECK(pairing.created() == "A:1");
    pairing.new_batch();
    receive(pairing, packet(0, "cidA", "a"), "A:1");  // routed to A's connection
    receive(pairing, packet(0, "cidC", "c"), "C:3");
    CHECK(pairing.created() == "C:3");
  }
  SUBCASE("a client's later Initials go to the ID the listener chose") {
    pairing.new_batch();
    receive(pairing, packet(0, "cidA", "a"), "A:1");
    CHECK(pairing.created() == "A:1");
    auto ours = packet(0, "a", "srvA", "");  // our Initial to A: its source ID is ours
    pairing.sent(ours.data(), ours.size());
    pairing.new_batch();
    receive(pairing, packet(0, "srvA", "a"), "A:1");
    receive(pairing, packet(0, "cidD", "d"), "D:4");
    CHECK(pairing.created() == "D:4");
  }
  SUBCASE("a Retry's source ID is the one the client's attempt comes to") {
    auto retry = packet(3, "e", "retryE");
    pairing.sent(retry.data(), retry.size());
    pairing.new_batch();
    receive(pairing, packet(0, "retryE", "e"), "E:5");
    CHECK(pairing.created() == "E:5");
  }
  SUBCASE("Initials without a token, short headers and junk create nothing") {
    pairing.new_batch();
    receive(pairing, packet(0, "cidF", "f", ""), "F:6");  // answered with a Retry
    receive(pairing, packet(2, "cidG", "g"), "G:7");      // Handshake
    std::vector<unsigned char> short_header{0x40, 1, 2, 3, 4, 5, 6, 7, 8};
    receive(pairing, short_header, "H:8");
    std::vector<unsigned char> cut{0xC0, 0, 0, 0, 1, 30, 1, 2};  // an ID longer than the datagram
    receive(pairing, cut, "I:9");
    receive(pairing, packet(0, "cidJ", "j"), "J:10");
    CHECK(pairing.created() == "J:10");
    CHECK(pairing.created().empty());
  }
}
