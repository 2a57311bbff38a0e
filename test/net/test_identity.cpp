// The node's identity on disk: made once, owner-only, reloaded with the same id; a key that
// others can read, a lone key or certificate, or a certificate of another key is refused with
// a message that says what to do.
#define BOOST_TEST_MODULE identity
#include <boost/test/unit_test.hpp>

#include "p2p/net/identity.hpp"
#include "p2p/util/sha256.hpp"
#include "support.hpp"

#include <openssl/x509.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <regex>

using namespace p2p::test;

namespace {

unsigned mode_of(const fs::path& p) {
    struct stat st{};
    BOOST_REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

BOOST_AUTO_TEST_CASE(base32_follows_rfc_4648) {
    const auto b32 = [](const std::string& s) {
        return p2p::base32(reinterpret_cast<const unsigned char*>(s.data()), s.size());
    };
    BOOST_TEST(b32("") == "");
    BOOST_TEST(b32("f") == "MY");
    BOOST_TEST(b32("fo") == "MZXQ");
    BOOST_TEST(b32("foo") == "MZXW6");
    BOOST_TEST(b32("foob") == "MZXW6YQ");
    BOOST_TEST(b32("fooba") == "MZXW6YTB");
    BOOST_TEST(b32("foobar") == "MZXW6YTBOI");
}

BOOST_AUTO_TEST_CASE(made_once_owner_only_and_reloaded_with_the_same_id) {
    TempDir dir;
    std::string error;
    auto first = p2p::Identity::load_or_create(dir.path(), error);
    BOOST_REQUIRE_MESSAGE(first, error);
    BOOST_TEST(mode_of(dir / "identity.key") == 0600u);
    BOOST_TEST(mode_of(dir / "identity.crt") == 0600u);
    BOOST_TEST(!fs::exists(dir / "identity.key.tmp"));
    // 52 base32 characters in groups of 7 (the last one 3).
    BOOST_TEST(std::regex_match(first->id(), std::regex("([A-Z2-7]{7}-){7}[A-Z2-7]{3}")), first->id());
    BOOST_TEST(first->short_id() == first->id().substr(0, 7));

    auto again = p2p::Identity::load_or_create(dir.path(), error);
    BOOST_REQUIRE_MESSAGE(again, error);
    BOOST_TEST(again->id() == first->id());

    // The id is the SHA-256 of the certificate's DER bytes, computed here another way.
    unsigned char* der = nullptr;
    const int len = i2d_X509(again->certificate(), &der);
    BOOST_REQUIRE(len > 0);
    p2p::Sha256 sha;
    sha.update(der, static_cast<std::size_t>(len));
    OPENSSL_free(der);
    const std::string hex = sha.hex_digest();
    unsigned char digest[32];
    for (int i = 0; i < 32; ++i) digest[i] = static_cast<unsigned char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    std::string plain = first->id();
    plain.erase(std::remove(plain.begin(), plain.end(), '-'), plain.end());
    BOOST_TEST(plain == p2p::base32(digest, 32));

    TempDir other;
    auto stranger = p2p::Identity::load_or_create(other.path(), error);
    BOOST_REQUIRE(stranger);
    BOOST_TEST(stranger->id() != first->id());
}

BOOST_AUTO_TEST_CASE(a_key_others_can_read_is_refused) {
    TempDir dir;
    std::string error;
    BOOST_REQUIRE(p2p::Identity::load_or_create(dir.path(), error));
    fs::permissions(dir / "identity.key", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    BOOST_TEST(!p2p::Identity::load_or_create(dir.path(), error));
    BOOST_TEST(error.find("readable by others (mode 0640)") != std::string::npos, error);
    BOOST_TEST(error.find("chmod 600 ") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(a_lone_key_or_certificate_is_never_replaced) {
    TempDir dir;
    std::string error;
    BOOST_REQUIRE(p2p::Identity::load_or_create(dir.path(), error));
    const std::string key_before = read_file(dir / "identity.key");
    fs::remove(dir / "identity.crt");
    BOOST_TEST(!p2p::Identity::load_or_create(dir.path(), error));
    BOOST_TEST(error.find("identity.crt is missing") != std::string::npos, error);
    BOOST_TEST(read_file(dir / "identity.key") == key_before);
}

BOOST_AUTO_TEST_CASE(a_certificate_of_another_key_is_refused) {
    TempDir a, b;
    std::string error;
    BOOST_REQUIRE(p2p::Identity::load_or_create(a.path(), error));
    BOOST_REQUIRE(p2p::Identity::load_or_create(b.path(), error));
    fs::copy_file(b / "identity.crt", a / "identity.crt", fs::copy_options::overwrite_existing);
    BOOST_TEST(!p2p::Identity::load_or_create(a.path(), error));
    BOOST_TEST(error.find("does not belong to the Ed25519 key") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(garbage_is_refused) {
    TempDir dir;
    std::string error;
    BOOST_REQUIRE(p2p::Identity::load_or_create(dir.path(), error));
    { std::ofstream(( dir / "identity.crt").string()) << "not a certificate\n"; }
    BOOST_TEST(!p2p::Identity::load_or_create(dir.path(), error));
    BOOST_TEST(error.find("is not a PEM file") != std::string::npos, error);
}
