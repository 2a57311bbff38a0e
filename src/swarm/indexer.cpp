#include "p2p/swarm/indexer.hpp"

#include "p2p/util/atomic_file.hpp"
#include "p2p/util/hex.hpp"
#include "p2p/util/worker_thread.hpp"

#include <boost/filesystem/operations.hpp>
#include <boost/thread/lock_guard.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace p2p {

namespace fs = boost::filesystem;

namespace {

constexpr std::string_view tmp_suffix = ".tmp";  // write_atomically's temporary beside the target

/// A stored manifest's bytes, if the file is no longer than a manifest of `size` can be
/// (anything unreadable reads as empty, which parse_manifest() refuses).
std::optional<std::string> read_stored(const fs::path& path, std::uint64_t size, std::uint32_t chunk_size) {
    boost::system::error_code ec;
    const auto bytes = fs::file_size(path, ec);
    const std::uint64_t longest = 256 + (size / chunk_size + 1) * sizeof(Manifest::Digest);
    if (ec || bytes > longest) return std::nullopt;
    std::ifstream in(path.string(), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

Indexer::Indexer(const FileIndex& index, fs::path store_dir, std::uint32_t chunk_size, HashedFn on_hashed)
    : index_(index), store_dir_(std::move(store_dir)), chunk_size_(chunk_size), on_hashed_(std::move(on_hashed)) {
    if (!Manifest::valid_chunk_size(chunk_size)) throw std::invalid_argument("invalid chunk size");
}

Indexer::~Indexer() { stop(); }

void Indexer::start() {
    if (thread_.joinable()) return;
    if (!store_dir_.empty()) {
        boost::system::error_code ec;
        fs::create_directories(store_dir_, ec);  // if it fails, every write fails: memory only
    }
    thread_ = start_worker("indexer", [this] { run(); });
}

void Indexer::stop() {
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        stop_.store(true);
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Indexer::wake() {
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        wake_requested_ = true;
    }
    changed_.notify_all();
}

std::shared_ptr<const Manifest> Indexer::find(const OpenFile& file) const {
    const auto version = FileVersion::of(file.fd());
    if (!version) return nullptr;
    boost::lock_guard<boost::mutex> lock(mutex_);
    const auto it = manifests_.find(*version);
    return it == manifests_.end() ? nullptr : it->second;
}

std::optional<std::string> Indexer::sha256_hex(const OpenFile& file) const {
    const auto manifest = find(file);
    if (!manifest) return std::nullopt;
    return to_hex(manifest->file_sha256.data(), manifest->file_sha256.size());
}

Indexer::Status Indexer::status() const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    return status_;
}

bool Indexer::wait_idle(std::chrono::milliseconds timeout) {
    boost::unique_lock<boost::mutex> lock(mutex_);
    const std::uint64_t before = scans_started_;  // a scan already running may predate the caller's files
    wake_requested_ = true;
    changed_.notify_all();
    return changed_.wait_for(lock, boost::chrono::milliseconds(timeout.count()),
                             [&] { return idle_scan_ > before; });
}

void Indexer::run() noexcept {
    while (!stop_.load()) {
        try {
            scan();
        } catch (...) {
            // Out of memory (or threads for OpenSSL) in one scan: the next one tries again.
        }
        boost::unique_lock<boost::mutex> lock(mutex_);
        changed_.wait_for(lock, boost::chrono::seconds(rescan_interval.count()),
                          [this] { return stop_.load() || wake_requested_; });
        wake_requested_ = false;
    }
}

void Indexer::scan() {
    std::uint64_t number = 0;
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        number = ++scans_started_;
    }
    // Names first, files one at a time after: a folder of many files never holds many descriptors.
    std::vector<std::string> names;
    boost::system::error_code ec;
    for (fs::directory_iterator it(index_.dir(), ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (FileIndex::is_safe_name(name)) names.push_back(std::move(name));  // never "*.part"
    }
    if (ec) return;  // an unreadable folder forgets nothing; the next scan tries again
    std::set<FileVersion> current;
    for (const auto& name : names) {
        if (stop_.load()) return;
        const auto file = index_.open(name);  // regular, inside the folder; else not served either
        if (!file) continue;
        const auto version = FileVersion::of(file->fd());
        if (!version) continue;
        current.insert(*version);
        manifest_for(name, *file, *version);
    }
    if (stop_.load()) return;  // a cut-short list would forget files it did not reach
    forget_all_but(current);
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        status_.files = current.size();
        status_.ready = manifests_.size();  // forget_all_but() left only current versions
        if (status_.ready == status_.files) idle_scan_ = number;
    }
    changed_.notify_all();
}

std::shared_ptr<const Manifest> Indexer::manifest_for(const std::string& name, const OpenFile& file,
                                                      const FileVersion& version) {
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        const auto it = manifests_.find(version);
        if (it != manifests_.end()) return it->second;
    }
    const fs::path stored = store_dir_.empty() ? fs::path() : store_dir_ / version.name();
    if (!stored.empty()) {
        // A manifest of another chunk size is recomputed (and its file replaced).
        const auto text = read_stored(stored, version.size, chunk_size_);
        auto m = text ? parse_manifest(*text) : std::nullopt;
        if (m && m->size == version.size && m->chunk_size == chunk_size_) {
            auto shared = std::make_shared<const Manifest>(std::move(*m));
            boost::lock_guard<boost::mutex> lock(mutex_);
            ++status_.loaded_files;
            return manifests_[version] = shared;
        }
    }
    const auto started = std::chrono::steady_clock::now();
    auto m = compute_manifest(file.fd(), version.size, chunk_size_, &stop_);
    if (!m) return nullptr;  // stopped, or a read error: the next scan tries again
    // Changed while we read it: the digests may mix two versions. Redone next scan.
    const auto after = FileVersion::of(file.fd());
    if (!after || *after != version) return nullptr;
    auto shared = std::make_shared<const Manifest>(std::move(*m));
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        ++status_.hashed_files;
        status_.hashed_bytes += version.size;
        manifests_[version] = shared;
    }
    std::string ignored;  // not fatal: the manifest is kept in memory, and recomputed next start
    if (!stored.empty()) write_atomically(stored, serialize(*shared), 0644, ignored);
    if (on_hashed_)
        on_hashed_(name, *shared, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - started));
    return shared;
}

void Indexer::forget_all_but(const std::set<FileVersion>& current) {
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        for (auto it = manifests_.begin(); it != manifests_.end();)
            it = current.count(it->first) ? std::next(it) : manifests_.erase(it);
    }
    if (store_dir_.empty()) return;
    // Only names this class writes are removed: anything else in the folder is not ours.
    boost::system::error_code ec;
    std::vector<fs::path> stale;
    for (fs::directory_iterator it(store_dir_, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        const bool tmp = name.size() > tmp_suffix.size() &&
                         name.compare(name.size() - tmp_suffix.size(), tmp_suffix.size(), tmp_suffix) == 0;
        if (tmp) name.resize(name.size() - tmp_suffix.size());  // a crash's leftover: never current
        const auto version = FileVersion::parse_name(name);
        if (version && (tmp || !current.count(*version))) stale.push_back(it->path());
    }
    for (const auto& path : stale) fs::remove(path, ec);
}

}  // namespace p2p
