// Which chunk a source is asked for next. Not locked: the download that owns it holds its lock.
//
// Random first, then in order (libtorrent's "random first piece", then sequential). Every
// source we find is a seed - a search hit means the whole file - so availability is the same
// for every chunk and rarest-first (BEP 3) would have nothing to choose between. In order keeps
// the .part's writes and writeback sequential and a cut download's prefix contiguous; the first
// few picks at random spread several downloaders of one file over different chunks.
//
// Endgame: once every missing chunk has been asked of someone, a source that has nothing to do
// is given a chunk another source is still fetching, the one with the fewest requesters first.
// The first verified copy wins (complete() returns true once); the loser's copy is discarded
// when it arrives (the server answers in order, so a cancel message would arrive behind the
// request it cancels; the waste is at most one chunk per source, as the owner asks one at a time
// in the endgame).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace p2p {

class ChunkPicker {
public:
    using Source = std::size_t;  ///< the download's number for a source

    /// `have`: chunks already verified (a resume); empty: none. The first `random_first` picks
    /// are drawn at random.
    ChunkPicker(std::size_t count, std::vector<bool> have, std::uint64_t seed, std::size_t random_first = 4);

    /// The next chunk for `s`: a missing chunk nobody was asked for; in the endgame one that
    /// others are fetching and `s` is not. Nothing when `s` can help with nothing.
    std::optional<std::size_t> pick(Source s);
    /// `s` delivered chunk i, verified: true when it was still missing (it is now had).
    bool complete(std::size_t i, Source s);
    /// `s` sent a bad copy of chunk i: it goes back to the queue, for another source first.
    void failed(std::size_t i, Source s);
    /// `s` is gone: every chunk it was asked for goes back.
    void drop(Source s);

    bool wanted(std::size_t i) const { return i < have_.size() && !have_[i]; }
    bool done() const { return have_count_ == have_.size(); }
    bool endgame() const { return unrequested_ == 0 && !done(); }
    std::size_t have_count() const { return have_count_; }
    std::size_t count() const { return have_.size(); }
    const std::vector<bool>& have() const { return have_; }

private:
    bool requested_by(std::size_t i, Source s) const;
    void forget_request(std::size_t i, Source s);

    std::vector<bool> have_;
    std::vector<std::vector<Source>> requesters_;  ///< per chunk: who is fetching it now
    static constexpr Source no_source = static_cast<Source>(-1);
    std::vector<Source> failed_by_;                ///< per chunk: the last source whose copy failed
    std::size_t have_count_ = 0;
    std::size_t unrequested_ = 0;  ///< missing chunks nobody is fetching
    std::size_t next_ = 0;         ///< no unrequested missing chunk lies before this one
    std::size_t random_left_;
    std::mt19937_64 random_;
};

}  // namespace p2p
