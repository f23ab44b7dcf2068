#include "server/shutdown_signal.h"

#include <signal.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

namespace tgi::server {

struct ShutdownSignal::State {
  sigset_t signals;
  std::mutex mutex;
  std::condition_variable arrived;
  bool ready = false;
  int received = 0;
};

ShutdownSignal::ShutdownSignal() : state_(std::make_shared<State>()) {
  sigemptyset(&state_->signals);
  sigaddset(&state_->signals, SIGINT);
  sigaddset(&state_->signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &state_->signals, nullptr);
  // Detached: a server that fails to start returns from run_server with the waiter still blocked
  // in sigwait, and the process exits around it.
  std::thread([state = state_] {
    int signal_number = 0;
    sigwait(&state->signals, &signal_number);
    std::lock_guard lock(state->mutex);
    if (!state->ready) {
      spdlog::info("Received {} while loading the model: exiting",
                   signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
      spdlog::default_logger()->flush();
      std::_Exit(0);  // stopping was asked for; nothing is in flight yet
    }
    state->received = signal_number;
    state->arrived.notify_all();
  }).detach();
}

void ShutdownSignal::mark_ready() {
  std::lock_guard lock(state_->mutex);
  state_->ready = true;
}

int ShutdownSignal::wait() {
  std::unique_lock lock(state_->mutex);
  state_->arrived.wait(lock, [this] { return state_->received != 0; });
  return state_->received;
}

}  // namespace tgi::server
