// The console's progress line for a download:
// "[#######.....]  42%  12.3 MiB/s  3 sources  ETA 0:07", updated at most ten times a second.
#pragma once

#include "p2p/util/output.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace p2p {

/// How often the bar is redrawn; a transfer shorter than this shows no rate and no ETA (a few
/// milliseconds say nothing about a speed).
constexpr std::chrono::milliseconds progress_refresh{100};

/// The bar's text for `done` of `total` bytes, `arrived` of them in `elapsed`. Pure.
std::string format_progress(std::uint64_t done, std::uint64_t total, std::uint64_t arrived,
                            std::chrono::steady_clock::duration elapsed, const std::string& extra);

class ProgressBar {
public:
    explicit ProgressBar(Output& out) : out_(out), start_(Clock::now()), last_(start_) {}
    /// `done` of `total` bytes, all of them arrived in this transfer.
    void operator()(std::uint64_t done, std::uint64_t total) { show(done, total, done, {}); }
    /// The rate counts only `arrived` (a resumed download's kept bytes are not a speed);
    /// `extra` follows the rate (e.g. "  3 sources").
    void show(std::uint64_t done, std::uint64_t total, std::uint64_t arrived, const std::string& extra);

private:
    using Clock = std::chrono::steady_clock;
    Output& out_;
    Clock::time_point start_, last_;
};

}  // namespace p2p
