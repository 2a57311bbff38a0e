#include "p2p/console/progress_bar.hpp"

#include "p2p/util/byte_units.hpp"

#include <cstdio>

namespace p2p {

std::string format_progress(std::uint64_t done, std::uint64_t total, std::uint64_t arrived,
                            std::chrono::steady_clock::duration elapsed, const std::string& extra) {
    const int pct = total ? static_cast<int>(done * 100 / total) : 100;
    std::string bar(30, '.');
    for (int i = 0; i < pct * 30 / 100; ++i) bar[i] = '#';
    char line[200];
    if (elapsed < progress_refresh) {
        std::snprintf(line, sizeof line, "[%s] %3d%%%s", bar.c_str(), pct, extra.c_str());
        return line;
    }
    const double secs = std::chrono::duration<double>(elapsed).count();
    const double rate = arrived / secs;
    const long eta = rate > 0 ? static_cast<long>((total - done) / rate) : 0;
    std::snprintf(line, sizeof line, "[%s] %3d%%  %s/s%s  ETA %ld:%02ld", bar.c_str(), pct,
                  format_bytes(rate).c_str(), extra.c_str(), eta / 60, eta % 60);
    return line;
}

void ProgressBar::show(std::uint64_t done, std::uint64_t total, std::uint64_t arrived, const std::string& extra) {
    auto now = Clock::now();
    if (done != total && now - last_ < progress_refresh) return;
    last_ = now;
    out_.progress(format_progress(done, total, arrived, now - start_, extra));
}

}  // namespace p2p
