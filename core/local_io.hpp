// The local ends of the pipe (stdin and stdout, or whatever the caller gives), read and written
// without blocking and without touching their file status flags.
//
// Why not O_NONBLOCK: the flag belongs to the open file description, which the descriptor shares
// with every process that inherited it. Setting it made `cat` fail with EAGAIN in
// `{ quicc ... & cat big; } | slow`, and a crash or SIGKILL left it set for the whole pipeline.
// Instead each call is made non-blocking on its own:
// - sockets: recv()/send() with MSG_DONTWAIT;
// - pipes and terminals: one read() after poll() said readable (a pipe or terminal with data
//   returns what it has); one write after poll() said writable, of one PIPE_BUF, or of the
//   pipe's whole size (F_GETPIPE_SZ) when FIONREAD says it is empty;
// - regular files and other devices (/dev/null): never block; no poll needed.
// A descriptor someone else already made non-blocking answers EAGAIN, which is handled as
// "not ready". The one case left that can block briefly is a pipe another writer fills between
// our poll() and our write(); the write then waits for the reader, not forever.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "config.hpp"

namespace quicc {

// memory: a scripted input's bytes (--send).
enum class EndKind { regular, pipe, socket, terminal, device, closed, memory };

class LocalInput {
 public:
  // fd < 0: a closed input, at EOF from the start.
  explicit LocalInput(int fd);
  // A scripted input (--send, --send-file): `script`'s parts in order, then EOF; `fd` when
  // `script` is empty. `script` must outlive this object.
  LocalInput(int fd, const std::vector<InputPart>& script);

  // The descriptor to poll: the current part's (-1 for bytes).
  int fd() const { return fd_; }
  EndKind kind() const { return kind_; }
  // A read may be tried without poll() saying so first. A scripted input changes kinds from
  // part to part: it answers not_ready when it moves to a part that must be polled.
  bool always_ready() const;

  // --crlf (ncat -C): every LF not right after a CR comes out as CR LF, across reads.
  void send_crlf() { crlf_ = true; }

  enum class Result { data, eof, not_ready, failed };
  // One read of at most `length` bytes (at least 2 with send_crlf); `n` gets the count,
  // `error` the reason on failure. Call after poll() said readable, unless always_ready().
  Result read(void* buffer, size_t length, size_t& n, std::string& error);

 private:
  Result read_input(void* buffer, size_t length, size_t& n, std::string& error);
  Result read_fd(void* buffer, size_t length, size_t& n, std::string& error);
  // Moves to the next part of the script (past its end: closed, at EOF).
  void next_part();

  int fd_;
  EndKind kind_;
  const std::vector<InputPart>* script_ = nullptr;
  size_t part_ = 0;    // the current part of the script
  size_t offset_ = 0;  // bytes of the current part's `bytes` already read
  bool crlf_ = false;
  bool last_cr_ = false;  // --crlf: the last byte read was a CR
};

class LocalOutput {
 public:
  // fd < 0: a closed output; writing to it fails as if its reader had gone.
  explicit LocalOutput(int fd);

  int fd() const { return fd_; }
  EndKind kind() const { return kind_; }
  bool always_ready() const;

  enum class Result { written, not_ready, closed, failed };
  // Writes as much of `data` as can go without blocking (possibly less than `length`). Call
  // after poll() said writable, unless always_ready().
  Result write(const void* data, size_t length, size_t& n, std::string& error);

 private:
  // How much a write may hand over now without blocking.
  size_t room() const;

  int fd_;
  EndKind kind_;
  size_t pipe_size_ = 0;
};

}  // namespace quicc
