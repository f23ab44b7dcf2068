#pragma once
// `tgi bench --url --plot FILE`: the load curves drawn by gnuplot (Debian: gnuplot-nox). Two
// panels side by side: output throughput (tokens/s) against concurrent clients, and inter-token
// latency p50 (ms) against throughput, each point labelled with its client count.
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace tgi::cli {

struct LoadPoint {
  int clients = 0;
  double tokens_per_second = 0;
  std::optional<double> itl_p50_ms;  // none: the level produced no inter-token gaps
};

// The gnuplot terminal for an output file: "svg" for .svg, "pngcairo" for .png; an error for
// anything else.
Result<std::string> plot_terminal(const std::string& output_path);

// The complete gnuplot script (data inline) that writes `output_path`.
Result<std::string> gnuplot_script(const std::vector<LoadPoint>& points, const std::string& output_path,
                                   const std::string& title);

// Runs `gnuplot` on that script. Errors say to install gnuplot-nox when gnuplot is not on PATH,
// and carry gnuplot's own messages when it fails.
Result<void> write_plot(const std::vector<LoadPoint>& points, const std::string& output_path,
                        const std::string& title);

// Whether `gnuplot` is on PATH.
bool gnuplot_available();

}  // namespace tgi::cli
