// The engine's entry point: runs a client or a listener to completion.
#pragma once

#include "config.hpp"
#include "events.hpp"
#include "interrupts.hpp"
#include "status.hpp"

namespace quicc {

// Runs until the connection (or, for an echo listener, the service) ends, and always returns:
// interrupts end the run with Status::interrupted, never the process. Failures are also
// emitted as an ErrorEvent before returning.
Outcome run(const Config& config, EventSink& sink);

// True once a run left a thread behind: one blocked inside OpenSSL that no wake-up ended in
// time (the blocking driver waits 5 s for its threads). It still uses OpenSSL's state, so the
// process must not run its exit handlers (OPENSSL_cleanup frees that state under it): main
// flushes its output and ends with _Exit.
bool threads_left_behind();

// The failures --retry tries again: nothing was exchanged with the server yet (no stream, no
// byte of input read), and they may pass (a server still starting, a lost handshake).
bool worth_retrying(const Outcome& outcome);

// Internal to core: one per role.
Outcome run_client(const Config& config, Emitter& emitter, InterruptWatch& interrupts);
Outcome run_listener(const Config& config, Emitter& emitter, InterruptWatch& interrupts);

}  // namespace quicc
