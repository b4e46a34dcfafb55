#include "perf_framing.hpp"

namespace quicc {

namespace {

std::string bytes_text(uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

}  // namespace

PerfHeader perf_request_header(uint64_t response_size) {
  // Network byte order, whatever the host's: shifts, not a copy of the integer's memory.
  PerfHeader header;
  for (size_t i = 0; i < perf_header_size; ++i)
    header[i] = static_cast<unsigned char>(response_size >> (8 * (perf_header_size - 1 - i)));
  return header;
}

void PerfRequestParser::feed(const unsigned char* data, size_t n) {
  // A chunk may end inside the header, or hold its end and the upload's start.
  while (n > 0 && !header_complete()) {
    requested_ = (requested_ << 8) | *data++;
    ++header_bytes_;
    --n;
  }
  upload_bytes_ += n;
}

PerfRequestParser::End PerfRequestParser::fin() const {
  using Where = PerfReply::Where;
  if (!header_complete()) {
    // §2.3.1: ignored, and our side closed gracefully "(if applicable)": a unidirectional
    // stream has no side of ours.
    return {{bidirectional_ ? Where::same_stream : Where::none, 0},
            "the request ended after " + std::to_string(header_bytes_) + " of its " +
                std::to_string(perf_header_size) + " header bytes"};
  }
  // §2.3.2: a bidirectional stream is answered on itself, even with nothing (a FIN alone); a
  // unidirectional one needs a stream of the server's own, and nothing asked opens none.
  if (bidirectional_) return {{Where::same_stream, requested_}, std::nullopt};
  if (requested_ == 0) return {{Where::none, 0}, std::nullopt};
  return {{Where::new_unidirectional_stream, requested_}, std::nullopt};
}

bool PerfResponseCounter::add(uint64_t n) {
  // Saturating: an unlimited response may run long, but never wraps the count to "too few".
  received_ = n > perf_unlimited - received_ ? perf_unlimited : received_ + n;
  return received_ <= requested_;
}

std::optional<std::string> PerfResponseCounter::error() const {
  if (received_ <= requested_) return std::nullopt;
  return "the server sent " + bytes_text(received_) + ", more than the " +
         std::to_string(requested_) + " requested";
}

std::optional<std::string> PerfResponseCounter::error_at_fin() const {
  if (received_ > requested_) return error();
  if (received_ < requested_)
    return "the server's FIN came after " + bytes_text(received_) + " of the " +
           std::to_string(requested_) + " requested";
  return std::nullopt;
}

}  // namespace quicc
