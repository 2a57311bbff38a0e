// One source of a swarm download: its worker thread asks for chunks the picker chooses,
// pipelined on its connection, reads them into a free buffer, hashes them, and queues them for
// the verifier (swarm_download.cpp).
#include "p2p/swarm/swarm_download.hpp"

#include "p2p/swarm/swarm_client.hpp"
#include "p2p/util/sha256.hpp"

#include <boost/thread/lock_guard.hpp>

namespace p2p {

void SwarmDownload::work(Worker& w) {
    std::string why = fetch(w, *w.socket);
    w.socket.reset();
    boost::lock_guard<boost::mutex> lock(mutex_);
    if (!why.empty() && !stop_) notes_.push_back("Source " + w.id.to_string() + " " + why);
    picker_->drop(w.number);
    --active_;
    changed_.notify_all();
}

std::string SwarmDownload::fetch(Worker& w, Socket& socket) {
    const Manifest& m = *manifest_;
    std::deque<std::size_t> asked;
    std::vector<std::size_t> fresh;
    for (;;) {
        if (stop_) return "";
        {
            boost::unique_lock<boost::mutex> lock(mutex_);
            if (w.struck_out)
                return "sent " + std::to_string(w.strikes) + " chunks that failed their SHA-256; dropped from this "
                       "download and banned.";
            // In the endgame one at a time: a duplicate costs at most one chunk.
            const std::size_t depth = picker_->endgame() ? 1 : options_.depth;
            while (asked.size() < depth) {
                auto i = picker_->pick(w.number);
                if (!i) break;
                asked.push_back(*i);
                fresh.push_back(*i);
            }
            if (asked.empty()) {
                if (picker_->done()) return "";
                // Nothing to ask now; a failing source may give chunks back.
                changed_.wait_for(lock, wait_slice);
                continue;
            }
        }
        for (std::size_t i : fresh)
            if (!send_chunk_request(socket, name_, m, i)) return "disconnected; its chunks go to the others.";
        fresh.clear();
        const std::size_t i = asked.front();
        asked.pop_front();
        std::size_t b = 0;
        {
            boost::unique_lock<boost::mutex> lock(mutex_);
            while (free_buffers_.empty() && !stop_) changed_.wait_for(lock, wait_slice);
            if (stop_) return "";
            b = free_buffers_.back();
            free_buffers_.pop_back();
        }
        // Sized on first use: a small file never touches a whole chunk's pages.
        auto& buffer = buffers_[b];
        if (buffer.size() < m.chunk_length(i)) buffer.resize(m.chunk_length(i));
        const ChunkAnswer answer = read_chunk(socket, m, i, buffer.data(), limits_);
        // Hashed here, while the bytes are still in this core's cache, and on as many cores as
        // there are sources; an endgame duplicate whose chunk was already written is not.
        bool hashed = false, good = false;
        if (answer.kind == ChunkAnswer::Kind::received) {
            {
                boost::lock_guard<boost::mutex> lock(mutex_);
                hashed = picker_->wanted(i);
            }
            good = hashed && chunk_matches(m, i, buffer.data());
        }
        boost::lock_guard<boost::mutex> lock(mutex_);
        if (answer.kind == ChunkAnswer::Kind::received) {
            // Written (or struck) by the verifier while this thread reads the next chunk.
            jobs_.push_back({&w, i, b, hashed, good});
            changed_.notify_all();
            continue;
        }
        free_buffers_.push_back(b);
        switch (answer.kind) {
        case ChunkAnswer::Kind::received: break;
        case ChunkAnswer::Kind::changed:
            ++changed_sources_;
            return "no longer has this version of " + name_ + " (it changed there); its chunks go to the others.";
        case ChunkAnswer::Kind::invalid_answer: return "sent an invalid answer; dropped from this download.";
        case ChunkAnswer::Kind::lost:
            switch (answer.lost_how) {
            case ReadStatus::interrupted: return "";
            case ReadStatus::timeout: return "stalled; its chunks go to the others.";
            default: return "disconnected; its chunks go to the others.";
            }
        }
    }
}

}  // namespace p2p
