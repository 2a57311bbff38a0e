#include "p2p/tls.hpp"

#include "p2p/identity.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace p2p {

namespace {

// Every certificate is self-signed, so the chain check always fails: accept it here and let
// the node id (the certificate's hash) and the pins decide. A peer must present one, though.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

std::string last_ssl_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return errno != 0 ? std::generic_category().message(errno) : "the peer closed the connection";
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    return text;
}

// A blocking call that failed: what the Socket's callers know (timed out, closed, an error).
std::error_code error_of(SSL* ssl, int ret) {
    const int e = SSL_get_error(ssl, ret);
    ERR_clear_error();
    if (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
        return std::make_error_code(std::errc::timed_out);
    if (e == SSL_ERROR_SYSCALL && errno != 0) return std::error_code(errno, std::generic_category());
    return std::make_error_code(std::errc::connection_aborted);
}

}  // namespace

TlsContext::TlsContext(const Identity& identity) {
    ctx_ = SSL_CTX_new(TLS_method());
    if (!ctx_ || SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION) != 1 ||
        SSL_CTX_use_certificate(ctx_, identity.certificate()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx_, identity.key()) != 1 || SSL_CTX_check_private_key(ctx_) != 1) {
        SSL_CTX_free(ctx_);
        throw std::runtime_error("cannot set up TLS: " + last_ssl_error());
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_certificate);
    // A peer that closes without close_notify has ended the connection, not attacked it: our
    // stop() shuts descriptors down, and every message here is framed, so no truncation is
    // mistaken for an end.
    SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx_, 0);  // no resumption: every connection proves its certificate
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::unique_ptr<TlsLayer> TlsLayer::start(const TlsContext& context, int fd, Role role,
                                          std::chrono::milliseconds timeout, std::string& error) {
    SSL* ssl = SSL_new(context.native());
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        error = "cannot start TLS: " + last_ssl_error();
        return nullptr;
    }
    set_timeouts(fd, timeout);
    errno = 0;
    const int r = role == Role::client ? SSL_connect(ssl) : SSL_accept(ssl);
    if (r != 1) {
        const bool timed_out = SSL_get_error(ssl, r) == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK);
        error = timed_out ? "TLS handshake timed out" : "TLS handshake failed: " + last_ssl_error();
        SSL_free(ssl);
        return nullptr;
    }
    X509* cert = SSL_get1_peer_certificate(ssl);
    std::string id = node_id_of(cert);
    X509_free(cert);
    if (id.empty()) {
        SSL_free(ssl);
        error = "the peer presented no usable certificate";
        return nullptr;
    }
    // From here reads and writes are bounded as the Socket's callers expect: a read waits on
    // poll() first, but a peer that sends half a TLS record and stops must not hold the thread.
    set_timeouts(fd, std::chrono::seconds(30));
    return std::unique_ptr<TlsLayer>(new TlsLayer(ssl, std::move(id)));
}

TlsLayer::~TlsLayer() { SSL_free(ssl_); }

std::size_t TlsLayer::read_some(char* buf, std::size_t len, std::error_code& ec) {
    errno = 0;
    const int n = SSL_read(ssl_, buf, static_cast<int>(std::min<std::size_t>(len, 1 << 30)));
    if (n > 0) {
        ec.clear();
        return static_cast<std::size_t>(n);
    }
    if (SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN ||
        (SSL_get_error(ssl_, n) == SSL_ERROR_SYSCALL && errno == 0)) {
        ERR_clear_error();
        ec.clear();
        return 0;  // closed: with or without close_notify (SSL_OP_IGNORE_UNEXPECTED_EOF)
    }
    ec = error_of(ssl_, n);
    return 0;
}

void TlsLayer::write_all(const char* data, std::size_t len, std::error_code& ec) {
    while (len > 0) {
        errno = 0;
        const int n = SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(len, 1 << 20)));
        if (n <= 0) {
            ec = error_of(ssl_, n);
            return;
        }
        data += n;
        len -= static_cast<std::size_t>(n);
    }
    ec.clear();
}

bool TlsLayer::pending() const { return SSL_pending(ssl_) > 0; }

bool TlsLayer::export_keying_material(const std::string& label, unsigned char* out, std::size_t size) const {
    return SSL_export_keying_material(ssl_, out, size, label.data(), label.size(), nullptr, 0, 0) == 1;
}

std::string TlsLayer::description() const {
    return std::string(SSL_get_version(ssl_)) + " " + SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_));
}

}  // namespace p2p
