// SHA-256 (OpenSSL libcrypto) for the integrity extension: incremental, and over a file.
#pragma once

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

    void update(const void* data, std::size_t len);
    /// The digest as 64 lowercase hex characters; the object is then spent.
    std::string hex_digest();

    /// Hashes `length` bytes of an open descriptor from `offset` (pread: the file offset is not
    /// moved). False on a read error or a file shorter than asked.
    bool update_from_fd(int fd, std::uint64_t offset, std::uint64_t length);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace p2p
