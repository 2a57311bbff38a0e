// The node's identity, as Syncthing's device ids: an Ed25519 key pair and a self-signed
// certificate in the state folder, and a node id derived from the certificate - no authority,
// no account, nothing to set up. The id is the SHA-256 of the certificate (DER), in base32
// (RFC 4648, no padding: 52 characters), grouped by 7 for reading aloud; its first group is
// the short form. TLS (later) presents this certificate; a peer's id is computed the same way
// from the certificate it presents.
#pragma once

#include <boost/filesystem/path.hpp>

#include <memory>
#include <string>

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

namespace p2p {

class Identity {
public:
    /// Loads `<dir>/identity.key` and `<dir>/identity.crt`, or creates both (owner-only, written
    /// whole or not at all) when neither exists. Null with `error` set when they cannot be read
    /// or written, do not match, or the key is readable by anyone but its owner.
    static std::unique_ptr<Identity> load_or_create(const boost::filesystem::path& dir, std::string& error);
    /// A new identity kept in memory only (a node without a state folder).
    static std::unique_ptr<Identity> ephemeral(std::string& error);
    ~Identity();
    Identity(const Identity&) = delete;
    Identity& operator=(const Identity&) = delete;

    /// "ABCDEFG-HIJKLMN-...-XYZ": 52 base32 characters in groups of 7.
    const std::string& id() const { return id_; }
    /// The first group: enough to tell nodes apart in a listing.
    std::string short_id() const { return id_.substr(0, 7); }
    EVP_PKEY* key() const { return key_; }
    X509* certificate() const { return cert_; }

private:
    Identity(EVP_PKEY* key, X509* cert);
    EVP_PKEY* key_;
    X509* cert_;
    std::string id_;
};

/// The node id of a certificate (as Identity::id()); empty if it cannot be encoded.
std::string node_id_of(X509* certificate);
/// RFC 4648 base32, upper case, no padding.
std::string base32(const unsigned char* data, std::size_t size);

}  // namespace p2p
