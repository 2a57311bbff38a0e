// Moving bytes with bounded memory and bounded waits: stream a file out, stream one in and
// save it atomically, read an exact number of bytes.
#pragma once

#include "p2p/lab/file_index.hpp"
#include "p2p/net/rate_limit.hpp"
#include "p2p/net/socket.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>

namespace p2p {

/// How a bounded read ended.
enum class ReadStatus { ok, closed, timeout, interrupted, error };

/// Limits shared by every read on the requesting side.
struct ReadLimits {
    std::chrono::milliseconds stall_timeout{30000};  ///< no byte for this long: give up
    const std::atomic<bool>* cancel = nullptr;       ///< set by quit / SIGINT: give up now
    RateLimit* rate = nullptr;                       ///< download limit; null: none
};

// Under a download limit each read takes at most RateLimit::max_grant bytes and is paid for
// once it returned, with the bytes that came (a 20-byte answer costs 20 bytes, not a grant);
// the wait for tokens ends as `interrupted` on cancel.

/// Reads exactly `len` bytes, waiting at most stall_timeout for each piece.
ReadStatus read_exact(Socket& socket, char* buf, std::size_t len, const ReadLimits& limits);
/// Waits for the next bytes and appends what one recv() returns (at most `max`).
ReadStatus read_more(Socket& socket, std::string& into, std::size_t max, const ReadLimits& limits);

/// Reads one answer line byte by byte (the data behind it is not ours to take) until '\n' or
/// `max` bytes; `line` holds what arrived, '\n' included.
ReadStatus read_line(Socket& socket, std::string& line, std::size_t max, const ReadLimits& limits);

/// Sends `file` from `offset` to its end (sendfile: no copy through user space). With a
/// `rate`, in pieces of at most RateLimit::max_grant, each paid for before it is sent; a
/// wait for tokens ended by `cancel` fails with operation_canceled.
void send_file(Socket& socket, const OpenFile& file, std::uint64_t offset, std::error_code& ec,
               RateLimit* rate = nullptr, const std::atomic<bool>* cancel = nullptr);
/// Sends `length` bytes of `file` from `offset` (a swarm chunk), paced as send_file.
void send_file_range(Socket& socket, const OpenFile& file, std::uint64_t offset, std::uint64_t length,
                     std::error_code& ec, RateLimit* rate = nullptr, const std::atomic<bool>* cancel = nullptr);
/// Sends `file` from `offset` to its end while hashing it, paced as send_file; returns the
/// SHA-256 (hex) of the whole file (a prefix before `offset` is read and hashed first), empty
/// on failure or cancel.
std::string send_file_hashing(Socket& socket, const OpenFile& file, std::uint64_t offset, std::error_code& ec,
                              RateLimit* rate, const std::atomic<bool>* cancel);

/// Called while a download runs: bytes received so far, bytes expected.
using ProgressFn = std::function<void(std::uint64_t, std::uint64_t)>;

/// Where and how a download is saved.
struct ReceiveTarget {
    const FileIndex& index;
    std::string name;
    bool overwrite = false;       ///< replace an existing `name` (request -f)
    std::uint64_t offset = 0;     ///< bytes already in name.part that are kept (resume)
    std::uint64_t total = 0;      ///< the file's size: offset + the bytes still to arrive
    std::string expected_sha256;  ///< whole-file digest to verify; empty for lab peers
    bool keep_partial = false;    ///< keep name.part after an interrupted transfer (resumable)
    bool digest_follows = false;  ///< XREQ's 261: the digest comes after the bytes
};

/// How receive_file ended.
struct ReceiveResult {
    enum class Kind { saved, exists, disconnected, timeout, interrupted, write_failed, corrupt } kind;
    std::uint64_t received = 0;  ///< bytes that arrived in this transfer
    std::string detail;          ///< the OS error for write_failed
};

/// Gives a complete, synced `part` its final name: without `overwrite` never over an existing
/// file (EEXIST). 0 or the errno; the caller removes `part` (still there after a link).
int publish_download(const std::string& part, const std::string& final_name, bool overwrite);

/// Receives total - offset bytes into `name` in the shared folder: appended to name.part and
/// given the name `name` only when complete, synced and (if a digest is given) verified, so
/// `name` never holds partial or wrong data. Without `overwrite`, an existing `name` is kept.
/// The bytes are read to the end even when the disk fails, so the stream stays in step.
ReceiveResult receive_file(Socket& socket, const ReceiveTarget& target, const ReadLimits& limits,
                           const ProgressFn& progress);

}  // namespace p2p
