// SHA-256 (OpenSSL libcrypto) for the integrity extension: incremental, and over a file.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace p2p {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    using Digest = std::array<unsigned char, 32>;

    void update(const void* data, std::size_t len);
    /// The digest; the object is then spent.
    Digest digest();
    /// The digest as 64 lowercase hex characters; the object is then spent.
    std::string hex_digest();

    /// Hashes `length` bytes of an open descriptor from `offset` (pread: the file offset is not
    /// moved), and feeds the same bytes to `also` if given (a manifest hashes each chunk and the
    /// whole file in one read). False on a read error, a file shorter than asked, or once
    /// `cancel` is set (checked per 256 KiB, so a stop never waits for a whole large file).
    bool update_from_fd(int fd, std::uint64_t offset, std::uint64_t length,
                        const std::atomic<bool>* cancel = nullptr, Sha256* also = nullptr);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace p2p
