#include "relay.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace quicc {

namespace {

constexpr size_t chunk_size = 64 * 1024;

// A pipe whose end `ours` is non-blocking: the relay never waits on its own side.
bool make_pipe(UniqueFd& read_end, UniqueFd& write_end, bool ours_is_read, std::string& error) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    error = std::string("cannot make a pipe for a client: ") + std::strerror(errno);
    return false;
  }
  read_end = UniqueFd(fds[0]);
  write_end = UniqueFd(fds[1]);
  int ours = ours_is_read ? fds[0] : fds[1];
  ::fcntl(ours, F_SETFL, ::fcntl(ours, F_GETFL) | O_NONBLOCK);
  return true;
}

bool ready(const std::vector<pollfd>& fds, size_t slot) {
  return slot < fds.size() && fds[slot].revents != 0;
}

}  // namespace

Relay::Relay(int input_fd, int output_fd, Emitter& emitter)
    : input_(input_fd), output_(output_fd), emitter_(emitter), chunk_(chunk_size),
      out_(chunk_size) {}

bool Relay::add(uint64_t id, int& input, int& output, std::string& error) {
  Client c{id};
  if (!make_pipe(c.input_read, c.input_write, false, error) ||
      !make_pipe(c.output_read, c.output_write, true, error))
    return false;
  c.offset = chunk_length_;  // it starts with the next chunk
  if (input_eof_) c.input_write = UniqueFd();
  if (output_gone_) c.output_read = UniqueFd();
  input = c.input_read.get();
  output = c.output_write.get();
  clients_.push_back(std::move(c));
  return true;
}

void Relay::join(uint64_t id) {
  for (auto& c : clients_) {
    if (c.id != id) continue;
    c.joined = true;
    c.offset = chunk_length_;  // it starts with the next chunk
  }
}

void Relay::finished(uint64_t id) {
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (it->id != id) continue;
    it->over = true;
    it->input_read = UniqueFd();
    it->input_write = UniqueFd();
    it->output_write = UniqueFd();  // what it wrote is read to EOF now
    if (it->output_read.get() < 0) clients_.erase(it);
    return;
  }
}

bool Relay::wants_input() const {
  if (input_eof_) return false;
  bool any = false;
  for (const auto& c : clients_) {
    if (c.input_write.get() < 0) continue;
    // One still in its handshake holds the input back (bounded by its --connect-timeout):
    // clients that connect together all get the input from its start, as when each was
    // given it at once, and one that fails its handshake takes nothing with it.
    if (!c.joined) return false;
    if (c.offset < chunk_length_) return false;
    any = true;
  }
  return any;
}

bool Relay::busy() const {
  return (wants_input() && input_.always_ready()) ||
         (out_offset_ < out_length_ && output_.always_ready());
}

void Relay::interest(std::vector<pollfd>& fds) {
  input_slot_ = output_slot_ = SIZE_MAX;
  if (wants_input() && !input_.always_ready()) {
    input_slot_ = fds.size();
    fds.push_back({input_.fd(), POLLIN, 0});
  }
  bool pending = out_offset_ < out_length_;
  if (pending && !output_.always_ready()) {
    output_slot_ = fds.size();
    fds.push_back({output_.fd(), POLLOUT, 0});
  }
  for (auto& c : clients_) {
    c.input_slot = c.output_slot = SIZE_MAX;
    if (c.input_write.get() >= 0 && c.joined && c.offset < chunk_length_) {
      c.input_slot = fds.size();
      fds.push_back({c.input_write.get(), POLLOUT, 0});
    }
    if (!pending && c.output_read.get() >= 0 && !c.output_eof) {
      c.output_slot = fds.size();
      fds.push_back({c.output_read.get(), POLLIN, 0});
    }
  }
}

uint64_t Relay::handle(const std::vector<pollfd>& fds) {
  uint64_t moved = 0;
  if (out_offset_ < out_length_ && (output_.always_ready() || ready(fds, output_slot_)))
    write_output(moved);
  if (out_offset_ >= out_length_) read_outputs(fds, moved);
  write_inputs(moved);
  if (wants_input() && (input_.always_ready() || ready(fds, input_slot_))) {
    read_input();
    write_inputs(moved);  // at once: the clients' pipes usually have room
  }
  input_slot_ = output_slot_ = SIZE_MAX;
  for (auto& c : clients_) c.input_slot = c.output_slot = SIZE_MAX;
  return moved;
}

bool Relay::read_input() {
  size_t n = 0;
  std::string error;
  switch (input_.read(chunk_.data(), chunk_.size(), n, error)) {
    case LocalInput::Result::data:
      chunk_length_ = n;
      for (auto& c : clients_)
        if (c.joined) c.offset = 0;

      return true;
    case LocalInput::Result::not_ready:
      return false;
    case LocalInput::Result::failed:
      emitter_.emit(WarningEvent{"cannot read the input: " + error + "; it ends here for every client"});
      [[fallthrough]];
    case LocalInput::Result::eof:
      input_eof_ = true;
      chunk_length_ = 0;
      for (auto& c : clients_) end_input(c);
      return false;
  }
  return false;
}

void Relay::end_input(Client& c) {
  c.input_write = UniqueFd();
  c.offset = chunk_length_;
}

void Relay::write_inputs(uint64_t& moved) {
  for (auto& c : clients_) {
    if (c.input_write.get() < 0 || !c.joined) continue;
    // Our end of its pipe never blocks: try whenever something is left for it.
    if (c.offset < chunk_length_) {
      ssize_t n = ::write(c.input_write.get(), chunk_.data() + c.offset, chunk_length_ - c.offset);
      if (n > 0) {
        c.offset += static_cast<size_t>(n);
        moved += static_cast<uint64_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        end_input(c);  // its pipe closed its input: nothing more goes to it
        continue;
      }
    }
    if (input_eof_ && c.offset >= chunk_length_) end_input(c);
  }
}

namespace {

bool writable_now(int fd) {
  pollfd p{fd, POLLOUT, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLOUT | POLLERR | POLLHUP));
}

}  // namespace

void Relay::read_outputs(const std::vector<pollfd>& fds, uint64_t& moved) {
  // Start after the client read last, so that one busy client cannot starve the others.
  auto start = std::find_if(clients_.begin(), clients_.end(),
                            [&](const Client& c) { return c.id >= next_reader_; });
  std::vector<std::list<Client>::iterator> order;
  for (auto it = start; it != clients_.end(); ++it) order.push_back(it);
  for (auto it = clients_.begin(); it != start; ++it) order.push_back(it);
  for (auto it : order) {
    Client& c = *it;
    if (!ready(fds, c.output_slot) || c.output_read.get() < 0) continue;
    ssize_t n = ::read(c.output_read.get(), out_.data(), out_.size());
    if (n > 0) {
      out_offset_ = 0;
      out_length_ = static_cast<size_t>(n);
      next_reader_ = c.id + 1;
      // At once only if the output takes it now: a pipe with no free slot would block even a
      // one-page write (stdout's reader stalled: SIGINT then waited for it, seen under load).
      if (output_.always_ready() || writable_now(output_.fd())) write_output(moved);
      break;  // one chunk at a time
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      c.output_eof = true;
      if (c.over) clients_.erase(it);
    }
  }
}

bool Relay::write_output(uint64_t& moved) {
  if (output_gone_) {
    out_offset_ = out_length_ = 0;
    return false;
  }
  size_t n = 0;
  std::string error;
  switch (output_.write(out_.data() + out_offset_, out_length_ - out_offset_, n, error)) {
    case LocalOutput::Result::written:
      out_offset_ += n;
      moved += n;
      return true;
    case LocalOutput::Result::not_ready:
      return false;
    case LocalOutput::Result::closed:
      failure_ = Outcome{Status::output_closed, "output closed by its reader"};
      close_outputs();
      return false;
    case LocalOutput::Result::failed:
      failure_ = Outcome{Status::io_error, "cannot write the output: " + error};
      close_outputs();
      return false;
  }
  return false;
}

void Relay::close_outputs() {
  output_gone_ = true;
  out_offset_ = out_length_ = 0;
  for (auto it = clients_.begin(); it != clients_.end();) {
    it->output_read = UniqueFd();  // its pipe's next write fails: it ends as output closed
    if (it->over) it = clients_.erase(it);
    else ++it;
  }
}

}  // namespace quicc
