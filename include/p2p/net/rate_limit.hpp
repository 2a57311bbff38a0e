// Bandwidth limits (--max-upload-rate, --max-download-rate, the console's `limit`): a token
// bucket shared by every transfer in one direction, and the rate's text form.
#pragma once

#include <boost/thread/condition_variable.hpp>
#include <boost/thread/mutex.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2p {

/// A token bucket shared by every transfer in one direction. Thread-safe.
///
/// Granularity: the bucket holds at most max(rate / 10, max_grant) bytes, i.e. 100 ms of
/// traffic (64 KiB at least), so a transfer that was idle may burst that much at once; over
/// any longer time the bytes passed stay within rate * t plus one burst. Tokens refill
/// continuously from a steady clock.
class RateLimit {
public:
    /// Callers ask for at most this many bytes at a time.
    static constexpr std::size_t max_grant = 64 * 1024;

    /// 0: unlimited.
    explicit RateLimit(std::uint64_t bytes_per_second = 0);
    RateLimit(const RateLimit&) = delete;
    RateLimit& operator=(const RateLimit&) = delete;

    /// 0: unlimited. Takes effect for the next acquire and wakes the waiting ones; a new
    /// limit starts with a full bucket.
    void set_rate(std::uint64_t bytes_per_second);
    std::uint64_t rate() const { return rate_.load(); }

    /// Waits until `bytes` may pass, then takes them. More than the bucket holds (only a caller
    /// that asks for more than max_grant) waits for a full bucket and leaves it in debt, so the
    /// average rate still holds. Returns false, taking nothing, once *cancel is set (checked at
    /// least every 100 ms while waiting). Unlimited: returns true at once without locking.
    bool acquire(std::size_t bytes, const std::atomic<bool>* cancel = nullptr);

private:
    using Clock = std::chrono::steady_clock;
    /// Adds the tokens earned since last_ at the current rate, up to the capacity. Under mutex_.
    void refill(Clock::time_point now);
    double capacity() const;

    /// Read without the lock by acquire's unlimited fast path; written under mutex_.
    std::atomic<std::uint64_t> rate_;
    /// Guards tokens_ and last_, and orders set_rate against waiters (with changed_).
    boost::mutex mutex_;
    boost::condition_variable changed_;  ///< set_rate: a waiter recomputes its wait
    double tokens_ = 0;                  ///< bytes that may pass now; negative: debt
    Clock::time_point last_;             ///< when tokens_ was last brought up to date
};

/// "20M", "512K", "1.5M", "100", "0", "unlimited" / "off" -> bytes per second (0: unlimited).
/// K, M, G are binary: 1024, 1024^2, 1024^3 (as the progress bar's MiB/s); a trailing "B" or
/// "iB" and "/s" are allowed ("20MiB/s"). nullopt, with the reason in *why, for anything else,
/// a negative rate, a rate above 2^64 - 1, or a non-zero rate below 1 byte per second.
std::optional<std::uint64_t> parse_rate(std::string_view text, std::string* why = nullptr);

/// "20.0 MiB/s", "100 B/s"; "unlimited" for 0.
std::string format_rate(std::uint64_t bytes_per_second);

}  // namespace p2p
