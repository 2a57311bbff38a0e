// TLS 1.3 between our nodes (OpenSSL libssl), as Syncthing does it: both sides present their
// self-signed certificate (identity.hpp) and neither checks it against an authority; each
// learns the other's node id from it, and pinning (not an authority) decides whom to trust.
//
// A TlsLayer sits under a Socket once both sides' HELLO listed tls/1 (handshake.hpp): the
// Socket's reads and writes then go through it, so no caller changes. One thread uses it at a
// time, as every Socket here; another thread wakes a blocked call with ::shutdown(fd), which
// OpenSSL sees as the end of the connection.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <system_error>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace p2p {

class Identity;

/// The certificate, key and settings every TLS connection of this node uses.
class TlsContext {
public:
    /// Throws std::runtime_error if OpenSSL cannot make the context.
    explicit TlsContext(const Identity& identity);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;
    SSL_CTX* native() const { return ctx_; }

private:
    SSL_CTX* ctx_ = nullptr;
};

class TlsLayer {
public:
    enum class Role { client, server };
    /// Runs the TLS handshake on the connected descriptor `fd` within `timeout` in all (a peer
    /// that trickles bytes cannot stretch it), or until `cancel` is set (checked every 100 ms).
    /// Null, with `error`, on failure.
    static std::unique_ptr<TlsLayer> start(const TlsContext& context, int fd, Role role,
                                           std::chrono::milliseconds timeout, std::string& error,
                                           const std::atomic<bool>* cancel = nullptr);
    ~TlsLayer();
    TlsLayer(const TlsLayer&) = delete;
    TlsLayer& operator=(const TlsLayer&) = delete;

    /// As Socket::read_some: 0 when the peer closed.
    std::size_t read_some(char* buf, std::size_t len, std::error_code& ec);
    /// As Socket::write_all.
    void write_all(const char* data, std::size_t len, std::error_code& ec);
    /// Decrypted bytes waiting: a read will not block even if the descriptor is not readable.
    bool pending() const;
    /// RFC 8446 exporter (SSL_export_keying_material): `size` bytes both ends of this session,
    /// and only they, compute alike for `label`.
    bool export_keying_material(const std::string& label, unsigned char* out, std::size_t size) const;

    /// The node id of the certificate the peer presented (identity.hpp).
    const std::string& peer_id() const { return peer_id_; }
    /// "TLSv1.3 TLS_AES_256_GCM_SHA384", for the log.
    std::string description() const;

private:
    TlsLayer(SSL* ssl, std::string peer_id) : ssl_(ssl), peer_id_(std::move(peer_id)) {}
    SSL* ssl_;
    std::string peer_id_;
};

}  // namespace p2p
