#include "p2p/swarm/swarm_download.hpp"

#include "p2p/util/atomic_file.hpp"
#include "p2p/swarm/chunk_bitmap.hpp"
#include "p2p/util/sha256.hpp"
#include "p2p/swarm/swarm_client.hpp"
#include "p2p/util/worker_thread.hpp"

#include <boost/filesystem/operations.hpp>
#include <boost/thread/lock_guard.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace p2p {

namespace {

constexpr auto bitmap_interval = std::chrono::seconds(1);

bool pwrite_all(int fd, const char* data, std::size_t len, std::uint64_t offset) {
    while (len > 0) {
        const ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = ENOSPC;
            return false;
        }
        data += n;
        len -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}


}  // namespace

SwarmDownload::SwarmDownload(std::string name, std::shared_ptr<const Manifest> manifest, const FileIndex& index,
                             boost::filesystem::path resume_file, bool overwrite, Hooks hooks, ReadLimits limits,
                             SwarmOptions options)
    : name_(std::move(name)), manifest_(std::move(manifest)), index_(index), resume_file_(std::move(resume_file)),
      overwrite_(overwrite), hooks_(std::move(hooks)), limits_(limits), options_(options),
      outer_cancel_(limits.cancel) {
    limits_.cancel = &stop_;
}

SwarmDownload::~SwarmDownload() {
    stop_ = true;
    for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
    stop_verifier();
    if (fd_ >= 0) ::close(fd_);
}

void SwarmDownload::stop_verifier() {
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        verifier_stop_ = true;
        changed_.notify_all();
    }
    if (verifier_.joinable()) verifier_.join();
}

void SwarmDownload::post(const std::string& line) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    notes_.push_back(line);
    changed_.notify_all();
}

bool SwarmDownload::open_part(Result& result) {
    using K = Result::Kind;
    boost::system::error_code fec;
    if (!overwrite_ && boost::filesystem::exists(index_.path_for(name_), fec)) {
        result.kind = K::exists;
        return false;
    }
    // O_NOFOLLOW: a link planted under the .part name cannot redirect the writes elsewhere.
    fd_ = ::open(part_path().c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0) {
        result.kind = K::write_failed;
        result.detail = std::strerror(errno);
        return false;
    }
    return true;
}

void SwarmDownload::resume(Result& result) {
    const Manifest& m = *manifest_;
    std::vector<bool> have(m.chunk_count(), false);
    std::uint64_t kept_bytes = 0;
    if (!resume_file_.empty()) {
        std::ifstream in(resume_file_.string(), std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        struct stat st {};
        const auto claimed = parse_chunk_bitmap(text.str(), m.root_hex(), m.chunk_count());
        if (claimed && ::fstat(fd_, &st) == 0) {
            // A hint only: each chunk it names is hashed again (a crash may have lost its bytes).
            for (std::size_t i = 0; i < have.size() && !stop_; ++i) {
                if (!(*claimed)[i] || m.chunk_offset(i) + m.chunk_length(i) > static_cast<std::uint64_t>(st.st_size))
                    continue;
                Sha256 hash;
                if (hash.update_from_fd(fd_, m.chunk_offset(i), m.chunk_length(i), outer_cancel_) &&
                    hash.digest() == m.chunks[i]) {
                    have[i] = true;
                    kept_bytes += m.chunk_length(i);
                }
            }
        }
    }
    result.resumed_chunks = static_cast<std::size_t>(std::count(have.begin(), have.end(), true));
    resumed_bytes_ = kept_bytes;
    std::random_device seed;
    picker_ = std::make_unique<ChunkPicker>(have.size(), std::move(have), (std::uint64_t{seed()} << 32) | seed());
}

bool SwarmDownload::size_part(Result& result) {
    // Nothing kept: whatever the .part held is not this file. Then the file's size, sparse.
    if ((result.resumed_chunks == 0 && ::ftruncate(fd_, 0) != 0) ||
        ::ftruncate(fd_, static_cast<off_t>(manifest_->size)) != 0) {
        result.kind = Result::Kind::write_failed;
        result.detail = std::strerror(errno);
        return false;
    }
    return true;
}

void SwarmDownload::save_bitmap() {
    if (resume_file_.empty()) return;
    std::string text;
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        text = format_chunk_bitmap(manifest_->root_hex(), picker_->have());
        bitmap_dirty_ = false;
    }
    std::string error;
    boost::system::error_code fec;
    boost::filesystem::create_directories(resume_file_.parent_path(), fec);
    if (!write_atomically(resume_file_, text, 0644, error, Durability::hint)) post("Resume state not saved: " + error + ".");
}

void SwarmDownload::finish(Result& result) {
    using K = Result::Kind;
    // Durable before visible: the final name only ever appears with every byte on disk (the
    // verifier started the writeback chunk by chunk, so this is short).
    const int fd = fd_;
    fd_ = -1;
    int err = ::fsync(fd) == 0 ? 0 : errno;
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err == 0) err = publish_download(part_path().string(), index_.path_for(name_).string(), overwrite_);
    if (err == 0) {
        result.kind = K::saved;
        boost::system::error_code fec;
        if (!resume_file_.empty()) boost::filesystem::remove(resume_file_, fec);
        ::unlink(part_path().c_str());  // after a rename it is already gone
        return;
    }
    // Not published: every verified chunk stays, and the bitmap that names them.
    result.kind = err == EEXIST && !overwrite_ ? K::exists : K::write_failed;
    result.detail = std::strerror(err);
    save_bitmap();
}

SwarmDownload::Result SwarmDownload::run(std::vector<Source> sources,
                                         const std::function<void(const std::string&)>& note,
                                         const std::function<void(const Progress&)>& progress) {
    using K = Result::Kind;
    Result result{K::incomplete};
    result.chunk_count = manifest_->chunk_count();
    if (manifest_->chunk_size > options_.max_chunk_size || manifest_->chunk_count() > options_.max_chunks) {
        result.kind = K::write_failed;  // Node::get checks first; this is the last guard
        result.detail = "the manifest is larger than this node accepts";
        return result;
    }
    if (!open_part(result)) return result;
    resume(result);
    if (outer_cancel_ && outer_cancel_->load()) {
        result.kind = K::interrupted;
        result.kept_chunks = result.resumed_chunks;
        return result;
    }
    if (!size_part(result)) return result;

    // The pool every worker reads into and the verifier frees: one per source and a few to spare,
    // so receiving goes on while the verifier waits on the disk.
    buffers_.resize(std::max<std::size_t>(8, std::min(sources.size(), options_.max_sources) + 2));
    for (std::size_t b = 0; b < buffers_.size(); ++b) free_buffers_.push_back(b);
    // Read before any thread runs: from here on the picker is read under mutex_ only (the
    // verifier completes chunks in it).
    const bool nothing_to_fetch = picker_->done();
    if (!nothing_to_fetch) {
        try {
            verifier_ = start_worker("verify", [this] { verify(); });
        } catch (const std::exception& e) {
            result.detail = std::string("no thread could be started: ") + e.what();
            return result;
        }
    }
    for (std::size_t i = 0; i < sources.size() && !nothing_to_fetch; ++i) {
        auto w = std::make_unique<Worker>();
        w->number = i;
        w->id = sources[i].id;
        w->socket = std::move(sources[i].socket);
        Worker* raw = w.get();
        workers_.push_back(std::move(w));
        try {
            {
                boost::lock_guard<boost::mutex> lock(mutex_);
                ++active_;
            }
            raw->thread = start_worker("swarm", [this, raw] { work(*raw); });
        } catch (const std::exception& e) {
            boost::lock_guard<boost::mutex> lock(mutex_);
            --active_;
            notes_.push_back("No thread for source " + raw->id.to_string() + ": " + e.what() + ".");
        }
    }

    const auto started = std::chrono::steady_clock::now();
    auto last_shown = started - std::chrono::seconds(1);
    auto last_saved = started;
    auto snapshot = [&] {  // under mutex_, which guards each worker's count too
        std::size_t delivering = 0;
        for (const auto& w : workers_) delivering += w->delivered > 0 ? 1 : 0;
        return Progress{resumed_bytes_ + received_, manifest_->size, received_, active_, delivering};
    };
    boost::unique_lock<boost::mutex> lock(mutex_);
    for (;;) {
        while (!notes_.empty()) {
            const std::string line = std::move(notes_.front());
            notes_.pop_front();
            lock.unlock();
            note(line);
            lock.lock();
        }
        const auto now = std::chrono::steady_clock::now();
        if (progress && now - last_shown >= std::chrono::milliseconds(100)) {
            last_shown = now;
            const Progress p = snapshot();
            lock.unlock();
            progress(p);
            lock.lock();
        }
        if (bitmap_dirty_ && now - last_saved >= bitmap_interval) {
            last_saved = now;
            lock.unlock();
            save_bitmap();
            lock.lock();
        }
        // With no worker left, chunks still waiting for the verifier may yet complete the file.
        const bool idle = active_ == 0 && jobs_.empty() && !verifying_;
        if (picker_->done() || idle || !write_error_.empty() || (outer_cancel_ && outer_cancel_->load()))
            break;
        changed_.wait_for(lock, wait_slice);
    }
    stop_ = true;
    lock.unlock();
    for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
    stop_verifier();  // after the workers: it finishes what they handed it
    for (const auto& line : notes_) note(line);
    notes_.clear();
    if (progress) progress(snapshot());

    result.received = received_;
    result.wasted = wasted_;
    for (const auto& w : workers_)
        if (w->delivered > 0) {
            ++result.sources_used;
            if (hooks_.delivered) hooks_.delivered(w->id, w->delivered);
        }
    if (!write_error_.empty()) {
        result.kind = K::write_failed;
        result.detail = write_error_;
    } else if (picker_->done()) {
        result.kept_chunks = picker_->have_count();
        result.resumable = !resume_file_.empty();
        finish(result);
        return result;
    } else if (outer_cancel_ && outer_cancel_->load()) {
        result.kind = K::interrupted;
    } else if (changed_sources_ > 0 && changed_sources_ == workers_.size()) {
        result.kind = K::changed;
    }
    save_bitmap();
    result.kept_chunks = picker_->have_count();
    result.resumable = !resume_file_.empty();
    return result;
}

void SwarmDownload::verify() {
    const Manifest& m = *manifest_;
    for (;;) {
        Job job{};
        bool wanted = false;
        {
            boost::unique_lock<boost::mutex> lock(mutex_);
            while (jobs_.empty() && !verifier_stop_) changed_.wait(lock);
            if (jobs_.empty()) return;  // stopped, and everything handed over is done
            job = jobs_.front();
            jobs_.pop_front();
            verifying_ = true;
            wanted = picker_->wanted(job.index) && write_error_.empty();
        }
        Worker& w = *job.worker;
        const std::uint32_t length = m.chunk_length(job.index);
        const char* data = buffers_[job.buffer].data();
        // A copy that failed its hash is a strike even if another copy was written meanwhile: a
        // corrupting source that loses races is still caught. One not hashed (its chunk was
        // already written when it arrived) is not needed. Wanted but not hashed cannot happen
        // (a chunk once had is never wanted again); hashing it then is the safe way. After a
        // write error nothing is wanted: queued chunks are dropped, never written unverified.
        const bool good = job.hashed ? job.good : (!wanted || chunk_matches(m, job.index, data));
        std::string write_error;
        if (wanted && good) {
            // This is the only thread that writes the .part, so "wanted" still holds.
            if (pwrite_all(fd_, data, length, m.chunk_offset(job.index)))
                // Start the writeback now, so the fsync at the end has little left to do.
                ::sync_file_range(fd_, static_cast<off_t>(m.chunk_offset(job.index)), length, SYNC_FILE_RANGE_WRITE);
            else
                write_error = std::strerror(errno);
        }
        bool strike = false, out = false;
        {
            boost::lock_guard<boost::mutex> lock(mutex_);
            free_buffers_.push_back(job.buffer);
            verifying_ = false;
            if (!write_error.empty()) {
                write_error_ = write_error;
            } else if (!good) {
                picker_->failed(job.index, w.number);
                wasted_ += length;
                // Answers already on their way from a source struck out count no more.
                strike = !w.struck_out;
                if (strike) out = w.struck_out = ++w.strikes >= options_.max_strikes;
            } else if (wanted && picker_->complete(job.index, w.number)) {
                received_ += length;
                w.delivered += length;
                bitmap_dirty_ = true;
            } else {
                picker_->complete(job.index, w.number);
                wasted_ += length;
            }
            changed_.notify_all();
        }
        if (!strike) continue;
        if (hooks_.strike) hooks_.strike(w.id);
        if (out && hooks_.struck_out) hooks_.struck_out(w.id);
        if (!out)
            post("Chunk " + std::to_string(job.index) + " from " + w.id.to_string() + " failed its SHA-256 (strike " +
                 std::to_string(w.strikes) + " of " + std::to_string(options_.max_strikes) + "); asked again.");
    }
}

}  // namespace p2p
