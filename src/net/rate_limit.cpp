#include "p2p/net/rate_limit.hpp"

#include "p2p/util/byte_units.hpp"

#include <boost/thread/lock_guard.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

namespace p2p {
namespace {

// The longest sleep between looks at the cancel flag (set_rate wakes waiters itself).
constexpr double wait_slice_s = 0.1;

bool strip_suffix(std::string_view& text, std::string_view suffix) {
    if (text.size() < suffix.size() || text.substr(text.size() - suffix.size()) != suffix) return false;
    text.remove_suffix(suffix.size());
    return true;
}

bool equals_lower(std::string_view text, std::string_view word) {
    return text.size() == word.size() &&
           std::equal(text.begin(), text.end(), word.begin(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

}  // namespace

RateLimit::RateLimit(std::uint64_t bytes_per_second)
    : rate_(bytes_per_second), tokens_(capacity()), last_(Clock::now()) {}

double RateLimit::capacity() const {
    return std::max(static_cast<double>(rate_.load()) / 10, static_cast<double>(max_grant));
}

void RateLimit::refill(Clock::time_point now) {
    const double earned = std::chrono::duration<double>(now - last_).count() * static_cast<double>(rate_.load());
    tokens_ = std::min(tokens_ + earned, capacity());
    last_ = now;
}

void RateLimit::set_rate(std::uint64_t bytes_per_second) {
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        rate_.store(bytes_per_second);
        // No debt or deficit of the old rate carries over.
        tokens_ = capacity();
        last_ = Clock::now();
    }
    changed_.notify_all();
}

bool RateLimit::acquire(std::size_t bytes, const std::atomic<bool>* cancel) {
    if (cancel && cancel->load()) return false;
    if (rate_.load() == 0) return true;
    boost::unique_lock<boost::mutex> lock(mutex_);
    for (;;) {
        if (cancel && cancel->load()) return false;
        const double rate = static_cast<double>(rate_.load());
        if (rate == 0) return true;  // lifted while we waited
        refill(Clock::now());
        const double need = std::min(static_cast<double>(bytes), capacity());
        if (tokens_ >= need) {
            tokens_ -= static_cast<double>(bytes);
            return true;
        }
        const double wait_s = std::min((need - tokens_) / rate, wait_slice_s);
        changed_.wait_for(lock, boost::chrono::microseconds(static_cast<long long>(std::ceil(wait_s * 1e6))));
    }
}

std::optional<std::uint64_t> parse_rate(std::string_view text, std::string* why) {
    auto fail = [why](const std::string& reason) -> std::optional<std::uint64_t> {
        if (why) *why = reason;
        return std::nullopt;
    };
    if (equals_lower(text, "unlimited") || equals_lower(text, "off")) return 0;
    strip_suffix(text, "/s");
    strip_suffix(text, "B");
    const bool binary_i = strip_suffix(text, "i");  // "MiB": only after a unit letter
    unsigned shift = 0;
    if (!text.empty()) {
        switch (std::toupper(static_cast<unsigned char>(text.back()))) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        }
        if (shift) text.remove_suffix(1);
    }
    if (!text.empty() && text.front() == '-') return fail("a rate cannot be negative");
    const std::size_t dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    const auto digits = [](std::string_view s) {
        return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if ((binary_i && !shift) || whole.size() + fraction.size() == 0 || !digits(whole) || !digits(fraction))
        return fail("bytes per second are expected, with an optional K, M or G (1024^n), e.g. 20M");
    fraction = fraction.substr(0, 18);  // finer than a byte means nothing
    using Wide = unsigned __int128;
    Wide whole_value = 0, fraction_value = 0, fraction_scale = 1;
    for (char c : whole) {
        whole_value = whole_value * 10 + static_cast<unsigned>(c - '0');
        if (whole_value > std::numeric_limits<std::uint64_t>::max()) return fail("the rate is too large");
    }
    for (char c : fraction) {
        fraction_value = fraction_value * 10 + static_cast<unsigned>(c - '0');
        fraction_scale *= 10;
    }
    const Wide value = (whole_value << shift) + (fraction_value << shift) / fraction_scale;
    if (value > std::numeric_limits<std::uint64_t>::max()) return fail("the rate is too large");
    if (value == 0 && (whole_value || fraction_value))
        return fail("a rate below 1 byte per second is not possible (0 means unlimited)");
    return static_cast<std::uint64_t>(value);
}

std::string format_rate(std::uint64_t bytes_per_second) {
    return bytes_per_second == 0 ? "unlimited" : format_bytes(static_cast<double>(bytes_per_second)) + "/s";
}

}  // namespace p2p
