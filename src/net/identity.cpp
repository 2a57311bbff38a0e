#include "p2p/net/identity.hpp"

#include "p2p/util/atomic_file.hpp"

#include <boost/filesystem/operations.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

namespace p2p {
namespace fs = boost::filesystem;

namespace {

constexpr const char* key_name = "identity.key";
constexpr const char* cert_name = "identity.crt";

std::string openssl_error(const std::string& what) { return what + " (OpenSSL)"; }

EVP_PKEY* new_key() {
    EVP_PKEY* key = nullptr;
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
    if (ctx && EVP_PKEY_keygen_init(ctx) == 1) EVP_PKEY_keygen(ctx, &key);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

// Self-signed, valid from now for 100 years: validity means nothing here (the id is pinned,
// not checked against a date), so it must never be the reason two nodes cannot talk.
X509* new_certificate(EVP_PKEY* key) {
    X509* cert = X509_new();
    if (!cert) return nullptr;
    unsigned char serial[16];
    bool ok = RAND_bytes(serial, sizeof serial) == 1;
    serial[0] &= 0x7f;  // a positive INTEGER
    BIGNUM* bn = ok ? BN_bin2bn(serial, sizeof serial, nullptr) : nullptr;
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
    BN_free(bn);
    X509_NAME* name = X509_get_subject_name(cert);
    ok = ok && X509_set_version(cert, 2) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(cert), 0) != nullptr &&
         X509_gmtime_adj(X509_getm_notAfter(cert), 100L * 365 * 24 * 3600) != nullptr &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    reinterpret_cast<const unsigned char*>("p2p-node"), -1, -1, 0) == 1 &&
         X509_set_issuer_name(cert, name) == 1 && X509_set_pubkey(cert, key) == 1 &&
         X509_sign(cert, key, nullptr) > 0;  // Ed25519 takes no separate digest
    if (!ok) {
        X509_free(cert);
        return nullptr;
    }
    return cert;
}

// The PEM text of a key or certificate, written owner-only and whole or not at all.
template <typename Write>
bool write_pem(const fs::path& path, Write write, std::string& error) {
    BIO* bio = BIO_new(BIO_s_mem());
    char* data = nullptr;
    const bool ok = bio && write(bio) == 1;
    const long len = ok ? BIO_get_mem_data(bio, &data) : 0;
    const bool written = ok && write_atomically(path, std::string_view(data, static_cast<std::size_t>(len)), 0600, error);
    if (!ok) error = openssl_error("cannot encode " + path.string());
    BIO_free(bio);
    return written;
}

template <typename T, typename Read>
T* read_pem(const fs::path& path, Read read, std::string& error) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) {
        error = "cannot read " + path.string() + ": " + std::strerror(errno);
        return nullptr;
    }
    T* value = read(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!value) error = openssl_error(path.string() + " is not a PEM file of the expected kind");
    return value;
}

}  // namespace

std::string base32(const unsigned char* data, std::size_t size) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (std::size_t i = 0; i < size; ++i) {
        buffer = (buffer << 8) | data[i];
        bits += 8;
        while (bits >= 5) {
            out += alphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
    return out;
}

std::string node_id_of(X509* certificate) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!certificate || X509_digest(certificate, EVP_sha256(), digest, &len) != 1) return "";
    const std::string plain = base32(digest, len);
    std::string grouped;
    for (std::size_t i = 0; i < plain.size(); i += 7) {
        if (i > 0) grouped += '-';
        grouped += plain.substr(i, 7);
    }
    return grouped;
}

Identity::Identity(EVP_PKEY* key, X509* cert) : key_(key), cert_(cert), id_(node_id_of(cert)) {}

Identity::~Identity() {
    X509_free(cert_);
    EVP_PKEY_free(key_);
}

std::unique_ptr<Identity> Identity::ephemeral(std::string& error) {
    EVP_PKEY* key = new_key();
    X509* cert = key ? new_certificate(key) : nullptr;
    if (!cert) {
        EVP_PKEY_free(key);
        error = openssl_error("cannot create a key pair and certificate");
        return nullptr;
    }
    return std::unique_ptr<Identity>(new Identity(key, cert));
}

std::unique_ptr<Identity> Identity::load_or_create(const fs::path& dir, std::string& error) {
    const fs::path key_path = dir / key_name, cert_path = dir / cert_name;
    boost::system::error_code ec;
    const bool have_key = fs::exists(key_path, ec), have_cert = fs::exists(cert_path, ec);
    if (!have_key && !have_cert) {
        auto made = ephemeral(error);
        if (!made) return nullptr;
        // The certificate last: a key without it is found and reported at the next start,
        // never silently replaced.
        if (!write_pem(key_path, [&](BIO* b) {
                return PEM_write_bio_PrivateKey(b, made->key(), nullptr, nullptr, 0, nullptr, nullptr);
            }, error) ||
            !write_pem(cert_path, [&](BIO* b) { return PEM_write_bio_X509(b, made->certificate()); }, error))
            return nullptr;
        return made;
    }
    if (!have_key || !have_cert) {
        error = (have_key ? cert_path : key_path).string() + " is missing (" +
                (have_key ? key_path : cert_path).string() + " is there): restore it, or remove both "
                "to make a new identity (the node id changes, and peers that pinned it refuse it)";
        return nullptr;
    }
    struct stat st{};
    if (::stat(key_path.c_str(), &st) != 0) {
        error = "cannot read " + key_path.string() + ": " + std::strerror(errno);
        return nullptr;
    }
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        error = key_path.string() + " is readable by others (mode " + mode + "); the key must be the "
                "owner's alone: chmod 600 " + key_path.string();
        return nullptr;
    }
    EVP_PKEY* key = read_pem<EVP_PKEY>(key_path, PEM_read_PrivateKey, error);
    if (!key) return nullptr;
    X509* cert = read_pem<X509>(cert_path, PEM_read_X509, error);
    if (!cert || X509_check_private_key(cert, key) != 1 || EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
        if (cert) error = cert_path.string() + " does not belong to the Ed25519 key in " + key_path.string();
        X509_free(cert);
        EVP_PKEY_free(key);
        return nullptr;
    }
    return std::unique_ptr<Identity>(new Identity(key, cert));
}

}  // namespace p2p
