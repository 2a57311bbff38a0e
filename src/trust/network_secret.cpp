#include "p2p/trust/network_secret.hpp"

#include "p2p/util/atomic_file.hpp"
#include "p2p/util/hex.hpp"
#include "p2p/net/tls.hpp"

#include <boost/filesystem/operations.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace p2p {

namespace {

constexpr std::size_t key_size = 32;
constexpr const char* exporter_label = "EXPORTER-p2p-node network secret";

}  // namespace

std::unique_ptr<NetworkSecret> NetworkSecret::load(const boost::filesystem::path& file, std::string& error) {
    struct stat st{};
    if (::stat(file.c_str(), &st) != 0) {
        error = "cannot read " + file.string() + ": " + std::strerror(errno);
        return nullptr;
    }
    if ((st.st_mode & 077) != 0) {
        error = file.string() + " is readable by others; a secret must be the owner's alone: chmod 600 " + file.string();
        return nullptr;
    }
    std::ifstream in(file.string());
    std::string text;
    std::getline(in, text);
    auto key = from_hex(text);
    if (!in || !key || key->size() != key_size) {
        error = file.string() + " holds no secret (64 hex characters, as p2p-node --new-secret FILE writes)";
        return nullptr;
    }
    return std::unique_ptr<NetworkSecret>(new NetworkSecret(std::move(*key)));
}

bool NetworkSecret::new_file(const boost::filesystem::path& file, std::string& error) {
    boost::system::error_code ec;
    if (boost::filesystem::exists(file, ec)) {
        error = file.string() + " exists; a secret is never overwritten (remove it first)";
        return false;
    }
    unsigned char key[key_size];
    if (RAND_bytes(key, sizeof key) != 1) {
        error = "no random bytes (OpenSSL)";
        return false;
    }
    const std::string text = to_hex(key, sizeof key) + "\n";
    OPENSSL_cleanse(key, sizeof key);
    return write_atomically(file, text, 0600, error);
}

std::optional<std::string> NetworkSecret::proof(const TlsLayer& tls, Role role) const {
    unsigned char exported[32];
    if (!tls.export_keying_material(exporter_label, exported, sizeof exported)) return std::nullopt;
    // The role's label first: a proof sent by one side is never the one the other must send.
    const std::string label = role == Role::client ? "client" : "server";
    std::string message = label + std::string(reinterpret_cast<const char*>(exported), sizeof exported);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
              reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len))
        return std::nullopt;
    return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

std::string NetworkSecret::proof_line(const TlsLayer& tls, Role role) const {
    auto p = proof(tls, role);
    if (!p) return "";
    return "PROOF " + to_hex(reinterpret_cast<const unsigned char*>(p->data()), p->size()) + "\n";
}

bool NetworkSecret::check(const TlsLayer& tls, Role role, std::string_view line) const {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    const std::string_view prefix = "PROOF ";
    if (line.substr(0, prefix.size()) != prefix) return false;
    auto got = from_hex(line.substr(prefix.size()));
    auto want = proof(tls, role);
    return got && want && got->size() == want->size() &&
           CRYPTO_memcmp(got->data(), want->data(), want->size()) == 0;
}

std::optional<std::string> NetworkSecret::describe(std::string_view line) {
    if (line.substr(0, 6) != "PROOF ") return std::nullopt;
    return "proof of the network secret, bound to this TLS session";
}

}  // namespace p2p
