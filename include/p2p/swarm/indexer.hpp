// The background indexer: one thread ("p2p:indexer") that keeps a manifest (manifest.hpp) for
// every file of the shared folder, hashing new and changed files one at a time, and keeps them
// on disk so a restart does not rehash the folder. Request paths only look manifests up.
#pragma once

#include "p2p/lab/file_index.hpp"
#include "p2p/lab/handler.hpp"
#include "p2p/util/file_version.hpp"
#include "p2p/swarm/manifest.hpp"

#include <boost/filesystem/path.hpp>
#include <boost/thread/condition_variable.hpp>
#include <boost/thread/mutex.hpp>
#include <boost/thread/thread.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace p2p {

/// Also the lab session's FileDigests: XREQ names a file's SHA-256 from its manifest.
class Indexer : public FileDigests {
public:
    /// How long the thread sleeps between scans when nobody calls wake(): a file copied into the
    /// folder by hand gets its manifest within this (plus its hashing time).
    static constexpr std::chrono::seconds rescan_interval{2};

    /// Manifests of the files of `index`'s folder, kept in `store_dir` as one file per file
    /// version, named FileVersion::name() (empty: in memory only; created if missing).
    /// Throws std::invalid_argument unless Manifest::valid_chunk_size(chunk_size).
    /// `on_hashed`, if set, is told of each manifest computed (not of those loaded), on the
    /// indexer's thread, without its lock.
    using HashedFn = std::function<void(const std::string& name, const Manifest&, std::chrono::milliseconds took)>;
    Indexer(const FileIndex& index, boost::filesystem::path store_dir,
            std::uint32_t chunk_size = Manifest::default_chunk_size, HashedFn on_hashed = {});
    ~Indexer();  ///< stops and joins
    Indexer(const Indexer&) = delete;
    Indexer& operator=(const Indexer&) = delete;

    /// Starts the thread "indexer"; throws boost::thread_resource_error when it cannot.
    void start();
    /// Sets the stop flag, wakes the thread and joins it; idempotent. Prompt even while a huge
    /// file is hashed (the flag is checked every 256 KiB).
    void stop();
    /// Rescans now (a download has just saved a file).
    void wake();

    /// The manifest of the file version `file` has open, or null if none is ready (not hashed
    /// yet, or the file changed since). Never hashes: cheap, for request paths.
    std::shared_ptr<const Manifest> find(const OpenFile& file) const;
    /// find()'s whole-file SHA-256 in hex (handler.hpp).
    std::optional<std::string> sha256_hex(const OpenFile& file) const override;

    struct Status {
        std::size_t files = 0;          ///< files seen by the last finished scan
        std::size_t ready = 0;          ///< of those, with a manifest ready
        std::uint64_t hashed_bytes = 0; ///< since start: bytes read to compute manifests
        std::size_t hashed_files = 0;   ///< since start: manifests computed
        std::size_t loaded_files = 0;   ///< since start: manifests read back from the store
    };
    Status status() const;

    /// Wakes the thread and blocks until a scan begun after this call finished with every file
    /// it saw ready, or `timeout` passed; true if so (tests).
    bool wait_idle(std::chrono::milliseconds timeout);

private:
    void run() noexcept;
    /// One pass over the folder: each file's manifest found, loaded or computed; stale ones dropped.
    void scan();
    /// The manifest of one file version, from the store or computed; null if it cannot be had now.
    std::shared_ptr<const Manifest> manifest_for(const std::string& name, const OpenFile& file,
                                                 const FileVersion& version);
    /// Drops every manifest, in memory and in the store, of a version not in `current`.
    void forget_all_but(const std::set<FileVersion>& current);

    const FileIndex& index_;
    const boost::filesystem::path store_dir_;
    const std::uint32_t chunk_size_;
    const HashedFn on_hashed_;
    std::atomic<bool> stop_{false};  ///< also the hashing's cancel flag
    boost::thread thread_;

    /// Guards everything below: find() and status() on request and console threads read what
    /// the indexer thread writes; with changed_, wake()/stop() cannot be missed between the
    /// thread's test and its sleep. Never held while a file is listed, read, hashed or written.
    mutable boost::mutex mutex_;
    boost::condition_variable changed_;  ///< wake()/stop() for the thread; scan ends for wait_idle
    bool wake_requested_ = false;
    std::map<FileVersion, std::shared_ptr<const Manifest>> manifests_;
    Status status_;
    std::uint64_t scans_started_ = 0;
    std::uint64_t idle_scan_ = 0;  ///< number of the last scan that ended with every file ready
};

}  // namespace p2p
