// SIGINT/SIGTERM as readable bytes on a pipe the engine polls (Config::interrupt_fd): a signal
// handler may only do async-signal-safe things, and write() is one.
#pragma once

namespace quicc::cli {

// Installs the handlers; returns the pipe's read end, or -1 if it could not be made.
int install_interrupt_pipe();

}  // namespace quicc::cli
