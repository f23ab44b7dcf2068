#include "cli/bench_plot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

extern char** environ;

namespace tgi::cli {
namespace {

// A gnuplot single-quoted string: no escapes inside, a quote is written twice.
Result<std::string> quoted(const std::string& text) {
  if (text.find_first_of("\n\r") != std::string::npos)
    return Error{ErrorKind::kInvalidArgument, "a line break cannot go into a gnuplot script"};
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A file of our own under the temp directory, created empty; its path.
Result<std::string> make_temp_file(const char* stem) {
  std::string path = (std::filesystem::temp_directory_path() / (std::string(stem) + "-XXXXXX")).string();
  const int fd = mkstemp(path.data());
  if (fd < 0) return Error::make(ErrorKind::kIo, "cannot create a temp file: {}", std::strerror(errno));
  close(fd);
  return path;
}

}  // namespace

Result<std::string> plot_terminal(const std::string& output_path) {
  const std::string lower = lowercase(output_path);
  if (ends_with(lower, ".svg")) return std::string("svg");
  if (ends_with(lower, ".png")) return std::string("pngcairo");
  return Error::make(ErrorKind::kInvalidArgument, "--plot '{}': the file must end in .svg or .png",
                     output_path);
}

Result<std::string> gnuplot_script(const std::vector<LoadPoint>& points, const std::string& output_path,
                                   const std::string& title) {
  TGI_ASSIGN_OR_RETURN(const std::string terminal, plot_terminal(output_path));
  TGI_ASSIGN_OR_RETURN(const std::string output, quoted(output_path));
  TGI_ASSIGN_OR_RETURN(const std::string heading, quoted(title));
  std::string s;
  s += fmt::format("set terminal {} size 1100,460 noenhanced background rgb 'white' font 'sans,11'\n",
                   terminal);
  s += fmt::format("set output {}\n", output);
  s += "$levels << EOD\n# clients tokens_per_second itl_p50_ms\n";
  for (const LoadPoint& p : points) {
    s += fmt::format("{} {:.3f} {}\n", p.clients, p.tokens_per_second,
                     p.itl_p50_ms ? fmt::format("{:.3f}", *p.itl_p50_ms) : std::string("NaN"));
  }
  s += "EOD\n";
  s += fmt::format("set multiplot layout 1,2 title {}\n", heading);
  s += "set grid\nset key off\nset yrange [0:*]\nset offsets graph 0.05, graph 0.05, graph 0.1, 0\n";
  s += "set title 'Output throughput vs concurrent clients'\n";
  s += "set xlabel 'concurrent clients'\nset ylabel 'throughput (tokens/s)'\n";
  if (points.size() > 1) s += "set logscale x 2\n";
  s += "plot $levels using 1:2:xtic(1) with linespoints pt 7 ps 1 lw 2 lc rgb '#1f77b4'\n";
  s += "unset logscale x\nset xtics autofreq\n";
  s += "set title 'Inter-token latency vs throughput (points labelled with clients)'\n";
  s += "set xlabel 'throughput (tokens/s)'\nset ylabel 'inter-token latency p50 (ms)'\n";
  const bool any_itl =
      std::any_of(points.begin(), points.end(), [](const LoadPoint& p) { return p.itl_p50_ms; });
  if (any_itl) {
    s += "plot $levels using 2:3 with linespoints pt 7 ps 1 lw 2 lc rgb '#d62728', \\\n"
         "     $levels using 2:3:(stringcolumn(1)) with labels offset char 0,1\n";
  } else {  // gnuplot refuses a plot with no defined point: an empty panel that says why
    s += "set label 1 'no inter-token gaps (one token per request)' at graph 0.5,0.5 center\n";
    s += "plot [0:1] [0:1] 2 notitle\n";
  }
  s += "unset multiplot\nset output\n";
  return s;
}

bool gnuplot_available() {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string_view dirs(path);
  while (true) {
    const size_t colon = dirs.find(':');
    const std::string dir(dirs.substr(0, colon));
    if (!dir.empty() && access((dir + "/gnuplot").c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) return false;
    dirs.remove_prefix(colon + 1);
  }
}

Result<void> write_plot(const std::vector<LoadPoint>& points, const std::string& output_path,
                        const std::string& title) {
  TGI_ASSIGN_OR_RETURN(const std::string script, gnuplot_script(points, output_path, title));
  if (!gnuplot_available())
    return Error{ErrorKind::kNotFound,
                 "gnuplot is not installed (not on PATH): install it, e.g. `apt-get install gnuplot-nox`, to "
                 "get --plot"};
  TGI_ASSIGN_OR_RETURN(const std::string script_path, make_temp_file("tgi-bench-plot"));
  TGI_ASSIGN_OR_RETURN(const std::string log_path, make_temp_file("tgi-bench-gnuplot-log"));
  struct Cleanup {
    std::string a, b;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove(a, ec);
      std::filesystem::remove(b, ec);
    }
  } cleanup{script_path, log_path};
  {
    std::ofstream out(script_path, std::ios::binary);
    out << script;
    if (!out) return Error::make(ErrorKind::kIo, "cannot write {}", script_path);
  }
  std::error_code stale;
  std::filesystem::remove(output_path, stale);  // so a failed run cannot pass for a good one
  // gnuplot's chatter (warnings on a one-point range, ...) goes to a log shown only on failure.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_APPEND, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(), O_WRONLY | O_APPEND, 0);
  std::string program = "gnuplot";
  std::vector<char*> argv = {program.data(), const_cast<char*>(script_path.c_str()), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    if (spawned == ENOENT)
      return Error{ErrorKind::kNotFound,
                   "gnuplot is not installed: `apt-get install gnuplot-nox` to get --plot"};
    return Error::make(ErrorKind::kIo, "cannot run gnuplot: {}", std::strerror(spawned));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::make(ErrorKind::kIo, "waiting for gnuplot: {}", std::strerror(errno));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Error::make(ErrorKind::kIo, "gnuplot failed writing {}:\n{}", output_path, read_all(log_path));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(output_path, ec) || std::filesystem::file_size(output_path, ec) == 0)
    return Error::make(ErrorKind::kIo, "gnuplot wrote nothing to {}:\n{}", output_path, read_all(log_path));
  return {};
}

}  // namespace tgi::cli
