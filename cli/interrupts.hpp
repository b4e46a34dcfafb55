// SIGINT, SIGTERM and SIGHUP as a count the engine reads (core/interrupts.hpp): the handler
// increments it, remembers the signal and writes a wake-up byte to a pipe, all
// async-signal-safe. The first two interrupts are the engine's to act on (graceful close, then
// rapid); the third takes the signal's default action, as curl and ncat do, so that a stuck
// run can always be killed from the keyboard.
#pragma once

#include "core/interrupts.hpp"

namespace quicc::cli {

// Installs the handlers; the source has no wake-up pipe if one could not be made.
InterruptSource install_interrupt_handlers();

}  // namespace quicc::cli
