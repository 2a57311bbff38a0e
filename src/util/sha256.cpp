#include "p2p/util/sha256.hpp"

#include "p2p/util/hex.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace p2p {

struct Sha256::Impl {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
    if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 unavailable");
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, std::size_t len) { EVP_DigestUpdate(impl_->ctx, data, len); }

Sha256::Digest Sha256::digest() {
    Digest md{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(impl_->ctx, md.data(), &len);
    return md;
}

std::string Sha256::hex_digest() {
    const Digest md = digest();
    return to_hex(md.data(), md.size());
}

bool Sha256::update_from_fd(int fd, std::uint64_t offset, std::uint64_t length,
                            const std::atomic<bool>* cancel, Sha256* also) {
    // At most 256 KiB, and no more than asked: small pieces (1 KiB chunks) need no big buffer.
    std::vector<char> buf(static_cast<std::size_t>(std::min<std::uint64_t>(length, 256 * 1024)));
    while (length > 0) {
        if (cancel && cancel->load()) return false;
        std::size_t want = length < buf.size() ? static_cast<std::size_t>(length) : buf.size();
        ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;  // shorter than asked: make the caller's errno meaningful
            return false;
        }
        update(buf.data(), static_cast<std::size_t>(n));
        if (also) also->update(buf.data(), static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
        length -= static_cast<std::uint64_t>(n);
    }
    return true;
}

}  // namespace p2p
