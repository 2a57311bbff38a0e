// One swarm download: a file fetched chunk by chunk from several of our nodes at once, each
// chunk verified against the manifest on arrival and written in place into name.part.
//
// Threads: one worker per source ("swarm") and one verifier ("verify"), started and joined by
// run(), which the console thread calls and which returns only when all have ended. A worker
// owns its connection (opened by the node, which asked every source for the manifest's root),
// keeps up to `depth` chunk requests in flight (one in the endgame), reads each answer into
// a buffer of a shared pool and hashes it there (each source's chunks on its own core); the
// verifier writes the good ones, strikes the bad ones and frees the buffer, so receiving (TLS
// decryption) and hashing overlap with writing. The caller's thread meanwhile waits, prints
// the notes and the progress, and passes a cancel (quit, Ctrl-C) on.
//
// A chunk that fails its digest goes back to the queue and is a strike against its source;
// after max_strikes the source is dropped from this download (and, through the hooks, banned).
// A source that vanishes, stalls or answers wrongly loses its chunks to the others. The file is
// saved - fsync, then the final name - once every chunk is verified; otherwise the verified
// chunks stay in name.part and a bitmap in the state folder says which (chunk_bitmap.hpp).
#pragma once

#include "p2p/swarm/chunk_picker.hpp"
#include "p2p/lab/file_index.hpp"
#include "p2p/swarm/manifest.hpp"
#include "p2p/net/peer_id.hpp"
#include "p2p/net/socket.hpp"
#include "p2p/lab/transfer.hpp"

#include <boost/filesystem/path.hpp>
#include <boost/thread/condition_variable.hpp>
#include <boost/thread/mutex.hpp>
#include <boost/thread/thread.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace p2p {

struct SwarmOptions {
    std::size_t depth = 4;        ///< chunk requests in flight per source
    std::size_t max_strikes = 3;  ///< bad chunks before a source is dropped
    std::size_t max_sources = 16;  ///< sources used at most (each costs a thread and a chunk buffer)
    std::uint32_t max_chunk_size = 4u << 20;  ///< larger chunks are refused (memory per worker)
    std::size_t max_chunks = 1u << 20;  ///< longer manifests are refused (32 bytes each in memory)
};

class SwarmDownload {
public:
    struct Source {
        PeerId id;
        std::unique_ptr<Socket> socket;  ///< a connection of ours that announced the manifest's root
    };
    /// What the download tells its owner (the node): called from its threads.
    struct Hooks {
        std::function<void(const PeerId&)> strike;                      ///< one bad chunk
        std::function<void(const PeerId&)> struck_out;                  ///< dropped for bad data
        std::function<void(const PeerId&, std::uint64_t bytes)> delivered;  ///< at the end
    };
    struct Progress {
        std::uint64_t done = 0, total = 0;  ///< verified bytes (kept ones included), file size
        std::uint64_t received = 0;         ///< verified bytes that arrived in this run
        std::size_t active_sources = 0;
        std::size_t delivering_sources = 0;  ///< sources that delivered a verified chunk so far
    };
    struct Result {
        enum class Kind { saved, exists, incomplete, interrupted, changed, write_failed } kind;
        std::uint64_t received = 0;    ///< verified bytes that arrived in this run
        std::size_t sources_used = 0;  ///< sources that delivered at least one chunk
        std::size_t kept_chunks = 0;   ///< verified chunks in part_name (resumed, or kept now)
        bool resumable = false;        ///< a bitmap names them, so the next `get` resumes
        std::size_t resumed_chunks = 0;  ///< chunks already here when it started
        std::size_t chunk_count = 0;
        std::uint64_t wasted = 0;      ///< bytes received twice (endgame) or bad
        std::string detail;            ///< why, for a failure
    };

    /// `resume_file`: where the bitmap is kept (empty: no resume). `cancel`: the node's exit event.
    SwarmDownload(std::string name, std::shared_ptr<const Manifest> manifest, const FileIndex& index,
                  boost::filesystem::path resume_file, bool overwrite, Hooks hooks, ReadLimits limits,
                  SwarmOptions options = {});
    ~SwarmDownload();
    SwarmDownload(const SwarmDownload&) = delete;
    SwarmDownload& operator=(const SwarmDownload&) = delete;

    /// Where the chunks wait: name.swarm.part (never served, as any ".part"; not name.part, which
    /// `request` would take for a prefix of the file).
    static std::string part_name(const std::string& name) { return name + ".swarm.part"; }

    /// Downloads from `sources` until the file is saved, every source is gone, or `cancel`.
    /// `note` gets one line per event (a source dropped, and why); `progress` at most ten
    /// times a second. Both are called on the caller's thread only.
    Result run(std::vector<Source> sources, const std::function<void(const std::string&)>& note,
               const std::function<void(const Progress&)>& progress);

private:
    /// One source: its connection and thread (swarm_fetch.cpp).
    struct Worker {
        std::size_t number;
        PeerId id;
        std::unique_ptr<Socket> socket;  ///< its connection, handed over by the caller
        boost::thread thread;
        // Guarded by mutex_: the verifier counts them.
        std::uint64_t delivered = 0;     ///< verified bytes that were needed
        std::size_t strikes = 0;         ///< chunks that failed their digest
        bool struck_out = false;         ///< strikes reached the limit: the worker ends
    };
    /// A received chunk waiting for the verifier.
    struct Job {
        Worker* worker;
        std::size_t index;
        std::size_t buffer;  ///< in buffers_
        bool hashed;         ///< the worker hashed it on arrival (it skips chunks no longer wanted)
        bool good;           ///< if hashed: it matched the manifest
    };
    /// How long a wait on changed_ lasts before the stop flags are looked at again.
    static constexpr boost::chrono::milliseconds wait_slice{100};

    void work(Worker& w);
    /// The verifier thread: writes each received chunk that matched, strikes the rest.
    void verify();
    void stop_verifier();
    /// One source's download loop; returns why it ended ("" when the file is complete).
    std::string fetch(Worker& w, Socket& socket);
    void post(const std::string& line);
    bool open_part(Result& result);
    void resume(Result& result);
    bool size_part(Result& result);
    boost::filesystem::path part_path() const { return index_.dir() / part_name(name_); }
    void save_bitmap();
    void finish(Result& result);

    const std::string name_;
    const std::shared_ptr<const Manifest> manifest_;
    const FileIndex& index_;
    const boost::filesystem::path resume_file_;
    const bool overwrite_;
    const Hooks hooks_;
    ReadLimits limits_;  ///< the workers': cancel is stop_ below
    const SwarmOptions options_;
    const std::atomic<bool>* outer_cancel_;  ///< the node's exit event
    std::atomic<bool> stop_{false};          ///< every worker ends: done, failed or cancelled
    int fd_ = -1;                            ///< name.part, written with pwrite by the verifier

    /// Guards everything below and each Worker's counts: the workers, the verifier
    /// and the caller's wait loop. Never held across network I/O, hashing or a disk write.
    boost::mutex mutex_;
    boost::condition_variable changed_;  ///< a chunk arrived, a worker ended, a note was posted
    std::unique_ptr<ChunkPicker> picker_;
    std::deque<std::string> notes_;
    std::uint64_t received_ = 0, wasted_ = 0;
    std::uint64_t resumed_bytes_ = 0;  ///< set before the workers start
    std::size_t active_ = 0, changed_sources_ = 0;
    std::string write_error_;  ///< the disk refused a chunk: the download ends
    bool bitmap_dirty_ = false;
    std::deque<Job> jobs_;     ///< received chunks, oldest first, for the verifier
    std::vector<std::vector<char>> buffers_;  ///< chunk buffers (sources + 2, at least 8)
    std::vector<std::size_t> free_buffers_;   ///< those neither being read into nor queued
    bool verifying_ = false;   ///< the verifier holds a job
    bool verifier_stop_ = false;
    std::vector<std::unique_ptr<Worker>> workers_;
    boost::thread verifier_;   ///< started by run(), joined after the workers
};

}  // namespace p2p
