#include "p2p/transfer.hpp"

#include <boost/filesystem/operations.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include <vector>

namespace p2p {
namespace {

// Short slices so a cancel (quit, Ctrl-C) is noticed quickly while a peer is silent.
constexpr std::chrono::milliseconds wait_slice{100};
constexpr std::size_t receive_buffer_size = 256 * 1024;

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

}  // namespace

ReadStatus read_more(Socket& socket, std::string& into, std::size_t max, const ReadLimits& limits) {
    if (auto st = wait_for_bytes(socket, limits); st != ReadStatus::ok) return st;
    std::vector<char> buf(max);
    std::error_code ec;
    std::size_t n = socket.read_some(buf.data(), buf.size(), ec);
    if (ec) return ReadStatus::error;
    if (n == 0) return ReadStatus::closed;
    into.append(buf.data(), n);
    return ReadStatus::ok;
}

ReadStatus read_exact(Socket& socket, char* buf, std::size_t len, const ReadLimits& limits) {
    while (len > 0) {
        if (auto st = wait_for_bytes(socket, limits); st != ReadStatus::ok) return st;
        std::error_code ec;
        std::size_t n = socket.read_some(buf, len, ec);
        if (ec) return ReadStatus::error;
        if (n == 0) return ReadStatus::closed;
        buf += n;
        len -= n;
    }
    return ReadStatus::ok;
}

void send_file(Socket& socket, const OpenFile& file, std::error_code& ec) {
    off_t offset = 0;
    std::uint64_t left = file.size();
    while (left > 0) {
        std::size_t chunk = left > (1u << 30) ? (1u << 30) : static_cast<std::size_t>(left);
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
        left -= static_cast<std::uint64_t>(n);
    }
    ec.clear();
}

ReceiveResult receive_file(Socket& socket, std::uint64_t length, const FileIndex& index,
                           const std::string& name, bool overwrite, const ReadLimits& limits,
                           const ProgressFn& progress) {
    using Kind = ReceiveResult::Kind;
    const std::string final_path = index.path_for(name).string();
    const std::string part_path = index.partial_path_for(name).string();
    ReceiveResult result{Kind::saved, 0, {}};

    int fd = ::open(part_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        result.kind = Kind::write_failed;
        result.detail = errno_text(errno);
    }
    std::vector<char> buf(receive_buffer_size);
    // Keep reading after a write failure: the peer is sending `length` bytes either way and the
    // connection must stay in step for the next request.
    while (result.received < length) {
        std::size_t want = static_cast<std::size_t>(
            std::min<std::uint64_t>(buf.size(), length - result.received));
        if (auto st = wait_for_bytes(socket, limits); st != ReadStatus::ok) {
            result.kind = st == ReadStatus::timeout ? Kind::timeout
                        : st == ReadStatus::interrupted ? Kind::interrupted : Kind::disconnected;
            break;
        }
        std::error_code ec;
        std::size_t n = socket.read_some(buf.data(), want, ec);
        if (ec || n == 0) {
            result.kind = Kind::disconnected;
            break;
        }
        result.received += n;
        if (fd >= 0) {
            for (std::size_t off = 0; off < n;) {
                ssize_t w = ::write(fd, buf.data() + off, n - off);
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) {
                    result.kind = Kind::write_failed;
                    result.detail = errno_text(w < 0 ? errno : ENOSPC);
                    ::close(fd);
                    fd = -1;
                    break;
                }
                off += static_cast<std::size_t>(w);
            }
        }
        if (progress) progress(result.received, length);
    }
    if (fd >= 0) {
        // Durable before visible: the final name only ever appears with every byte on disk.
        if (result.kind == Kind::saved && ::fsync(fd) != 0) {
            result.kind = Kind::write_failed;
            result.detail = errno_text(errno);
        }
        if (::close(fd) != 0 && result.kind == Kind::saved) {
            result.kind = Kind::write_failed;
            result.detail = errno_text(errno);
        }
    }
    if (result.kind == Kind::saved) {
        // link() refuses to replace an existing name; rename() replaces it atomically.
        int rc = overwrite ? ::rename(part_path.c_str(), final_path.c_str())
                           : ::link(part_path.c_str(), final_path.c_str());
        if (rc != 0) {
            result.kind = (!overwrite && errno == EEXIST) ? Kind::exists : Kind::write_failed;
            result.detail = errno_text(errno);
        }
    }
    ::unlink(part_path.c_str());  // after rename it is already gone; otherwise discard it
    return result;
}

}  // namespace p2p
