#include "p2p/console/progress_bar.hpp"

#include "p2p/util/byte_units.hpp"

#include <cstdio>

namespace p2p {

void ProgressBar::show(std::uint64_t done, std::uint64_t total, std::uint64_t arrived, const std::string& extra) {
    auto now = Clock::now();
    if (done != total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? arrived / secs : 0;
    int pct = total ? static_cast<int>(done * 100 / total) : 100;
    std::string bar(30, '.');
    for (int i = 0; i < pct * 30 / 100; ++i) bar[i] = '#';
    long eta = rate > 0 ? static_cast<long>((total - done) / rate) : 0;
    char line[200];
    std::snprintf(line, sizeof line, "[%s] %3d%%  %s/s%s  ETA %ld:%02ld", bar.c_str(), pct,
                  format_bytes(rate).c_str(), extra.c_str(), eta / 60, eta % 60);
    out_.progress(line);
}

}  // namespace p2p
