#include "p2p/lab/transfer.hpp"

#include "p2p/util/sha256.hpp"

#include <boost/filesystem/operations.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/sendfile.h>
#include <unistd.h>
#include <vector>

namespace p2p {
namespace {

// Short slices so a cancel (quit, Ctrl-C) is noticed quickly while a peer is silent.
constexpr std::chrono::milliseconds wait_slice{100};
constexpr std::size_t receive_buffer_size = 256 * 1024;
/// receive_file starts the writeback of every this many bytes as they are written, so the
/// fsync before the file gets its name has little left to do (as a swarm download per chunk).
constexpr std::uint64_t writeback_step = 8u << 20;

ReadStatus wait_for_bytes(Socket& socket, const ReadLimits& limits) {
    auto waited = std::chrono::milliseconds::zero();
    for (;;) {
        if (limits.cancel && limits.cancel->load()) return ReadStatus::interrupted;
        switch (socket.wait_readable(wait_slice)) {
        case Wait::ready: return ReadStatus::ok;
        case Wait::error: return ReadStatus::error;
        case Wait::timeout:
            waited += wait_slice;
            if (waited >= limits.stall_timeout) return ReadStatus::timeout;
        }
    }
}

std::string errno_text(int err) { return std::strerror(err); }

// One wait and one recv() of at most `want` bytes (max_grant under a limit), paid for after.
ReadStatus read_piece(Socket& socket, char* buf, std::size_t want, const ReadLimits& limits, std::size_t& got) {
    if (auto st = wait_for_bytes(socket, limits); st != ReadStatus::ok) return st;
    if (limits.rate && limits.rate->rate() != 0) want = std::min(want, RateLimit::max_grant);
    std::error_code ec;
    got = socket.read_some(buf, want, ec);
    if (ec) return ReadStatus::error;
    if (got == 0) return ReadStatus::closed;
    // False only on cancel, which the next wait reports: these bytes are delivered still.
    if (limits.rate) limits.rate->acquire(got, limits.cancel);
    return ReadStatus::ok;
}

}  // namespace

ReadStatus read_more(Socket& socket, std::string& into, std::size_t max, const ReadLimits& limits) {
    std::vector<char> buf(max);
    std::size_t n = 0;
    const ReadStatus st = read_piece(socket, buf.data(), buf.size(), limits, n);
    if (st == ReadStatus::ok) into.append(buf.data(), n);
    return st;
}

ReadStatus read_exact(Socket& socket, char* buf, std::size_t len, const ReadLimits& limits) {
    while (len > 0) {
        std::size_t n = 0;
        if (auto st = read_piece(socket, buf, len, limits, n); st != ReadStatus::ok) return st;
        buf += n;
        len -= n;
    }
    return ReadStatus::ok;
}

ReadStatus read_line(Socket& socket, std::string& line, std::size_t max, const ReadLimits& limits) {
    line.clear();
    while (line.size() < max && (line.empty() || line.back() != '\n')) {
        char c;
        if (auto st = read_exact(socket, &c, 1, limits); st != ReadStatus::ok) return st;
        line += c;
    }
    return ReadStatus::ok;
}

namespace {

// The size of the next piece of `left` bytes: up to `most` unlimited; under a limit at most
// max_grant and paid for first (false: cancelled). The rate is read per piece, so `limit`
// from the console changes a running transfer.
bool next_piece(RateLimit* rate, const std::atomic<bool>* cancel, std::uint64_t left, std::size_t most,
                std::size_t& piece) {
    piece = static_cast<std::size_t>(std::min<std::uint64_t>(left, most));
    if (!rate || rate->rate() == 0) return true;
    piece = std::min(piece, RateLimit::max_grant);
    return rate->acquire(piece, cancel);
}

// Over TLS (or while hashing) the bytes must pass through user space: read, then write, in
// 256 KiB pieces (sendfile works on plain connections only and shows us no byte).
void send_file_through(Socket& socket, const OpenFile& file, std::uint64_t from, std::uint64_t length,
                       Sha256* hash, std::error_code& ec, RateLimit* rate, const std::atomic<bool>* cancel) {
    std::vector<char> buf(256 * 1024);
    std::uint64_t offset = from;
    const std::uint64_t end = from + length;
    while (offset < end) {
        std::size_t want = 0;
        if (!next_piece(rate, cancel, end - offset, buf.size(), want)) {
            ec = std::make_error_code(std::errc::operation_canceled);
            return;
        }
        ssize_t n;
        do n = ::pread(file.fd(), buf.data(), want, static_cast<off_t>(offset));
        while (n < 0 && errno == EINTR);
        if (n <= 0) {  // a read error, or the file shrank under us: the length cannot be met
            ec = n < 0 ? std::error_code(errno, std::generic_category()) : std::make_error_code(std::errc::io_error);
            return;
        }
        if (hash) hash->update(buf.data(), static_cast<std::size_t>(n));
        socket.write_all(buf.data(), static_cast<std::size_t>(n), ec);
        if (ec) return;
        offset += static_cast<std::uint64_t>(n);
    }
    ec.clear();
}

}  // namespace

void send_file_range(Socket& socket, const OpenFile& file, std::uint64_t from, std::uint64_t length,
                     std::error_code& ec, RateLimit* rate, const std::atomic<bool>* cancel) {
    if (socket.tls()) return send_file_through(socket, file, from, length, nullptr, ec, rate, cancel);
    off_t offset = static_cast<off_t>(from);
    std::uint64_t left = length;
    while (left > 0) {
        std::size_t chunk = 0;
        if (!next_piece(rate, cancel, left, 1u << 30, chunk)) {
            ec = std::make_error_code(std::errc::operation_canceled);
            return;
        }
        while (chunk > 0) {
            ssize_t n = ::sendfile(socket.native_handle(), file.fd(), &offset, chunk);
            if (n < 0) {
                if (errno == EINTR) continue;
                ec = (errno == EAGAIN) ? std::make_error_code(std::errc::timed_out)
                                       : std::error_code(errno, std::generic_category());
                return;
            }
            if (n == 0) {  // the file shrank under us: the promised length can no longer be met
                ec = std::make_error_code(std::errc::io_error);
                return;
            }
            chunk -= static_cast<std::size_t>(n);
            left -= static_cast<std::uint64_t>(n);
        }
    }
    ec.clear();
}

void send_file(Socket& socket, const OpenFile& file, std::uint64_t from, std::error_code& ec, RateLimit* rate,
               const std::atomic<bool>* cancel) {
    send_file_range(socket, file, from, file.size() - from, ec, rate, cancel);
}

std::string send_file_hashing(Socket& socket, const OpenFile& file, std::uint64_t from, std::error_code& ec,
                              RateLimit* rate, const std::atomic<bool>* cancel) {
    Sha256 hash;
    // The digest covers the whole file: on a resume the prefix is hashed first (the one wait
    // before the first byte, and only when no manifest is ready).
    if (!hash.update_from_fd(file.fd(), 0, from, cancel)) {
        ec = cancel && cancel->load() ? std::make_error_code(std::errc::operation_canceled)
                                      : std::make_error_code(std::errc::io_error);
        return {};
    }
    send_file_through(socket, file, from, file.size() - from, &hash, ec, rate, cancel);
    return ec ? std::string() : hash.hex_digest();
}

int publish_download(const std::string& part, const std::string& final_name, bool overwrite) {
    // link() refuses to replace an existing name; rename() replaces it atomically.
    const int rc = overwrite ? ::rename(part.c_str(), final_name.c_str()) : ::link(part.c_str(), final_name.c_str());
    return rc == 0 ? 0 : errno;
}

ReceiveResult receive_file(Socket& socket, const ReceiveTarget& t, const ReadLimits& limits,
                           const ProgressFn& progress) {
    using Kind = ReceiveResult::Kind;
    const std::string final_path = t.index.path_for(t.name).string();
    const std::string part_path = t.index.partial_path_for(t.name).string();
    const std::uint64_t length = t.total - t.offset;
    ReceiveResult result{Kind::saved, 0, {}};
    auto fail_write = [&](int err) {
        result.kind = Kind::write_failed;
        result.detail = errno_text(err);
    };

    // Created before the file is opened: its constructor is the one step here that can throw.
    std::unique_ptr<Sha256> hash;
    std::string expected = t.expected_sha256;
    if (!expected.empty() || t.digest_follows) hash = std::make_unique<Sha256>();
    // Read-write: a resumed download hashes the bytes it already has.
    // O_NOFOLLOW: a link planted under the .part name cannot redirect the write elsewhere.
    int fd = ::open(part_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) fail_write(errno);
    if (fd >= 0) {
        errno = 0;
        // Whatever lies beyond the offset is not trusted; the kept prefix joins the digest.
        if (::ftruncate(fd, static_cast<off_t>(t.offset)) != 0 ||
            ::lseek(fd, static_cast<off_t>(t.offset), SEEK_SET) < 0 ||
            (hash && !hash->update_from_fd(fd, 0, t.offset, limits.cancel))) {
            // Quit or Ctrl-C while re-hashing a long kept prefix: interrupted, prefix kept.
            if (limits.cancel && limits.cancel->load()) result.kind = Kind::interrupted;
            else fail_write(errno ? errno : EIO);
            ::close(fd);
            fd = -1;
        }
    }
    std::vector<char> buf(receive_buffer_size);
    std::uint64_t written_back = t.offset;  // the file's bytes whose writeback has been started
    while (result.received < length) {
        std::size_t want = static_cast<std::size_t>(
            std::min<std::uint64_t>(buf.size(), length - result.received));
        // A disk failure stays the reported cause even if the stream then ends early.
        const bool writing = result.kind == Kind::saved;
        std::size_t n = 0;
        if (auto st = read_piece(socket, buf.data(), want, limits, n); st != ReadStatus::ok) {
            if (writing)
                result.kind = st == ReadStatus::timeout ? Kind::timeout
                            : st == ReadStatus::interrupted ? Kind::interrupted : Kind::disconnected;
            break;
        }
        result.received += n;
        if (hash) hash->update(buf.data(), n);
        for (std::size_t off = 0; fd >= 0 && off < n;) {
            ssize_t w = ::write(fd, buf.data() + off, n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                fail_write(w < 0 ? errno : ENOSPC);
                ::close(fd);
                fd = -1;
                break;
            }
            off += static_cast<std::size_t>(w);
        }
        if (fd >= 0 && t.offset + result.received - written_back >= writeback_step) {
            const std::uint64_t end = t.offset + result.received;
            ::sync_file_range(fd, static_cast<off_t>(written_back), static_cast<off_t>(end - written_back),
                              SYNC_FILE_RANGE_WRITE);  // only a start: an error shows in the fsync
            written_back = end;
        }
        if (progress) progress(t.offset + result.received, t.total);
    }
    if (t.digest_follows && result.received == length) {
        // 261: the sender hashed as it sent; its digest follows the bytes (64 hex + '\n').
        std::string trailer(65, '\0');
        const ReadStatus st = read_exact(socket, trailer.data(), trailer.size(), limits);
        if (st != ReadStatus::ok && result.kind == Kind::saved)
            result.kind = st == ReadStatus::timeout ? Kind::timeout
                        : st == ReadStatus::interrupted ? Kind::interrupted : Kind::disconnected;
        expected = trailer.back() == '\n' ? trailer.substr(0, 64) : std::string("not a digest");
    }
    if (fd >= 0) {
        // Durable before visible: the final name only ever appears with every byte on disk.
        if (result.kind == Kind::saved && ::fsync(fd) != 0) fail_write(errno);
        if (::close(fd) != 0 && result.kind == Kind::saved) fail_write(errno);
    }
    if (result.kind == Kind::saved && hash && hash->hex_digest() != expected)
        result.kind = Kind::corrupt;
    if (result.kind == Kind::saved) {
        if (const int err = publish_download(part_path, final_path, t.overwrite); err != 0) {
            if (!t.overwrite && err == EEXIST) result.kind = Kind::exists;
            else fail_write(err);
        }
    }
    const bool resumable = t.keep_partial && (result.kind == Kind::disconnected ||
                           result.kind == Kind::timeout || result.kind == Kind::interrupted);
    if (!resumable) ::unlink(part_path.c_str());  // after a rename it is already gone
    return result;
}

}  // namespace p2p
