#include "extra_streams.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "connection.hpp"
#include "stream_writer.hpp"

namespace quicc {

ExtraStreamPlan ExtraStreamRules::opened(bool bidi) const {
  ExtraStreamPlan plan;
  switch (policy_) {
    case PeerStreams::ignore:
      plan.warn = true;
      break;
    case PeerStreams::reject:
      if (bidi) plan.reset_code = reject_code_;
      plan.stop_reading = true;
      break;
    case PeerStreams::accept:
      plan.read = true;
      break;
  }
  return plan;
}

std::vector<std::string> PeerTextLines::add(std::string_view bytes) {
  std::vector<std::string> lines;
  for (;;) {
    size_t nl = bytes.find('\n');
    size_t room = max_line - partial_.size();
    if (nl == std::string_view::npos && bytes.size() < room) break;
    size_t take = nl == std::string_view::npos ? room : std::min(nl, room);
    partial_.append(bytes.substr(0, take));
    bool newline = take == nl;
    bytes.remove_prefix(take + (newline ? 1 : 0));
    lines.push_back(std::move(partial_));
    partial_.clear();
  }
  partial_.append(bytes);
  return lines;
}

std::optional<std::string> PeerTextLines::finish() {
  if (partial_.empty()) return std::nullopt;
  return std::exchange(partial_, {});
}

ExtraStreamReader::ExtraStreamReader(uint64_t id, const std::string& output_dir, Emitter& emitter)
    : id_(id), emitter_(emitter) {
  if (output_dir.empty()) return;
  path_ = output_dir + "/stream-" + std::to_string(id);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    failed_ = true;
    emitter_.emit(WarningEvent{"stream " + std::to_string(id) + ": cannot create " + path_ + ": " +
                               std::strerror(errno)});
    return;
  }
  emitter_.emit(PeerStreamEvent{id, PeerStreamChange::saving, path_, {}, 0});
}

ExtraStreamReader::~ExtraStreamReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool ExtraStreamReader::data(const unsigned char* bytes, size_t n) {
  if (failed_) return false;
  bytes_ += n;
  if (path_.empty()) {
    for (auto& line : lines_.add({reinterpret_cast<const char*>(bytes), n}))
      emitter_.emit(PeerStreamEvent{id_, PeerStreamChange::text, std::move(line), {}, 0});
    return true;
  }
  // A regular file (or whatever the user named): written in full, waiting if it must.
  while (n > 0) {
    ssize_t k = ::write(fd_, bytes, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      failed_ = true;
      emitter_.emit(WarningEvent{"stream " + std::to_string(id_) + ": cannot write " + path_ +
                                 ": " + std::strerror(k < 0 ? errno : ENOSPC)});
      return false;
    }
    bytes += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

void ExtraStreamReader::ended(std::optional<uint64_t> reset_code) {
  if (auto rest = lines_.finish())
    emitter_.emit(PeerStreamEvent{id_, PeerStreamChange::text, std::move(*rest), {}, 0});
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  emitter_.emit(PeerStreamEvent{id_, PeerStreamChange::ended, failed_ ? "" : path_, reset_code, bytes_});
}

// --- The OpenSSL side ----------------------------------------------------------------------------

bool start_extra_stream(Connection& conn, SSL* s, const ExtraStreamRules& rules) {
  uint64_t id = SSL_get_stream_id(s);
  bool bidi = stream_is_bidi(s);
  ExtraStreamPlan plan = rules.opened(bidi);
  if (plan.warn)
    conn.emitter().emit(WarningEvent{"ignoring stream " + std::to_string(id) +
                                     ": pipe mode uses one stream"});
  uint64_t code = 0;  // OpenSSL's STOP_SENDING always carries 0
  if (plan.reset_code) {
    SSL_STREAM_RESET_ARGS args{*plan.reset_code};
    if (SSL_stream_reset(s, &args, sizeof args) == 1) code = *plan.reset_code;
    ERR_clear_error();
  }
  if (plan.stop_reading) {
    conn.emitter().emit(PeerStreamEvent{id, PeerStreamChange::rejected, {}, code, 0});
    conn.forget_stream(s);  // frees it: STOP_SENDING
  }
  return plan.read;
}

bool finish_extra_stream(Connection& conn, SSL* s, ExtraStreamReader& reader, bool fin,
                         bool conclude_ours) {
  std::optional<uint64_t> reset;
  if (!fin) {
    uint64_t code = 0;
    int state = SSL_get_stream_read_state(s);
    if (state == SSL_STREAM_STATE_FINISHED) {
      fin = true;
    } else if (state == SSL_STREAM_STATE_RESET_REMOTE && SSL_get_stream_read_error_code(s, &code) == 1) {
      reset = code;
    } else if (state == SSL_STREAM_STATE_CONN_CLOSED && read_failed_by_reset()) {
      // A reset that came with the close: its code only on the wire.
      reset = conn.peer_reset_code(s).value_or(stream_code_unknown);
    } else {
      ERR_clear_error();
      return false;
    }
  }
  ERR_clear_error();
  reader.ended(reset);
  if (conclude_ours && ExtraStreamRules::fin_ours_when_ended(stream_is_bidi(s)))
    SSL_stream_conclude(s, 0);
  ERR_clear_error();
  return true;
}

}  // namespace quicc
