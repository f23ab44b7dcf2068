#pragma once
// Starts tests/unit/formats/fake_hub.py (a loopback stand-in for the Hugging Face hub) for the
// lifetime of the object. Shared by the formats unit tests and the `tgi download` CLI tests.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace tgi::testing {

class FakeHub {
 public:
  // `extra_args` go to fake_hub.py verbatim (--token T, --interrupt FILE, --corrupt FILE, ...).
  FakeHub(const std::filesystem::path& serve_dir, const std::string& repo_id, const std::filesystem::path& log_file,
          std::vector<std::string> extra_args = {}) {
    const std::string script = std::string(TGI_SOURCE_DIR) + "/tests/unit/formats/fake_hub.py";
    // The system interpreter starts much faster than a version-manager shim.
    const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    std::vector<std::string> args = {python, script, "--dir", serve_dir.string(), "--repo", repo_id,
                                     "--log", log_file.string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    if (pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    if (posix_spawnp(&pid_, python.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    std::FILE* from_child = fdopen(out[0], "r");
    if (from_child != nullptr && std::fscanf(from_child, "%d", &port_) != 1) port_ = 0;
    if (from_child != nullptr) std::fclose(from_child);
  }
  ~FakeHub() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  bool started() const { return pid_ > 0 && port_ > 0; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  static std::string read_log(const std::filesystem::path& log_file) {
    std::ifstream in(log_file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace tgi::testing
