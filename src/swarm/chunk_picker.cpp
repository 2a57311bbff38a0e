#include "p2p/swarm/chunk_picker.hpp"

#include <algorithm>
#include <limits>

namespace p2p {

ChunkPicker::ChunkPicker(std::size_t count, std::vector<bool> have, std::uint64_t seed, std::size_t random_first)
    : have_(std::move(have)), requesters_(count), failed_by_(count, no_source), random_left_(random_first),
      random_(seed) {
    have_.resize(count, false);
    have_count_ = static_cast<std::size_t>(std::count(have_.begin(), have_.end(), true));
    unrequested_ = count - have_count_;
}

bool ChunkPicker::requested_by(std::size_t i, Source s) const {
    const auto& r = requesters_[i];
    return std::find(r.begin(), r.end(), s) != r.end();
}

std::optional<std::size_t> ChunkPicker::pick(Source s) {
    if (done()) return std::nullopt;
    auto take = [&](std::size_t i) {
        if (requesters_[i].empty()) --unrequested_;
        requesters_[i].push_back(s);
        return i;
    };
    if (unrequested_ > 0) {
        // A chunk that failed from `s` goes to another source first, so one bad spot on one
        // disk cannot strike that source out on its own.
        const auto free = [&](std::size_t i) { return !have_[i] && requesters_[i].empty(); };
        if (random_left_ > 0) {
            --random_left_;
            // A few draws; a nearly finished file falls through to the scan below.
            std::uniform_int_distribution<std::size_t> any(0, have_.size() - 1);
            for (int tries = 0; tries < 16; ++tries) {
                const std::size_t i = any(random_);
                if (free(i) && failed_by_[i] != s) return take(i);
            }
        }
        // No free chunk lies before next_; a skipped one keeps next_ from passing it.
        std::optional<std::size_t> skipped;
        for (std::size_t i = next_; i < have_.size(); ++i) {
            if (!free(i)) continue;
            if (failed_by_[i] == s) {
                if (!skipped) skipped = i;
                continue;
            }
            if (!skipped) next_ = i + 1;
            return take(i);
        }
        if (skipped) return take(*skipped);  // no other chunk for it: its own failure, again
    }
    // Endgame: help with the chunk that has the fewest sources on it.
    std::optional<std::size_t> best;
    std::size_t fewest = std::numeric_limits<std::size_t>::max();
    for (std::size_t i = 0; i < have_.size(); ++i)
        if (!have_[i] && !requested_by(i, s) && requesters_[i].size() < fewest) {
            best = i;
            fewest = requesters_[i].size();
        }
    if (best) take(*best);
    return best;
}

void ChunkPicker::forget_request(std::size_t i, Source s) {
    auto& r = requesters_[i];
    auto it = std::find(r.begin(), r.end(), s);
    if (it == r.end()) return;
    r.erase(it);
    if (r.empty() && !have_[i]) {
        ++unrequested_;
        next_ = std::min(next_, i);
    }
}

bool ChunkPicker::complete(std::size_t i, Source s) {
    if (i >= have_.size()) return false;
    forget_request(i, s);
    if (have_[i]) return false;
    if (requesters_[i].empty()) --unrequested_;  // counted back by forget_request above
    have_[i] = true;
    ++have_count_;
    return true;
}

void ChunkPicker::failed(std::size_t i, Source s) {
    if (i >= have_.size()) return;
    forget_request(i, s);
    failed_by_[i] = s;
}

void ChunkPicker::drop(Source s) {
    for (std::size_t i = 0; i < requesters_.size(); ++i) forget_request(i, s);
}

}  // namespace p2p
