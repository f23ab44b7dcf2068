#pragma once
// SIGINT and SIGTERM for `tgi serve`: blocked in every thread and received by one waiter thread.
// Before the server is ready a signal ends the process at once: a load can take minutes (a
// download, a large checkpoint), and an operator or orchestrator that stops a starting server must
// not wait for it. Once ready, a signal is handed to wait() and starts the graceful drain.
#include <memory>

namespace tgi::server {

class ShutdownSignal {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread — construct it before any other thread starts,
  // so every thread inherits the mask — and starts the waiter.
  ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // From now on a signal goes to wait() instead of ending the process.
  void mark_ready();
  // Blocks until a signal has arrived after mark_ready(); returns its number.
  int wait();

  struct State;

 private:
  std::shared_ptr<State> state_;  // shared with the detached waiter, which may outlive this object
};

}  // namespace tgi::server
