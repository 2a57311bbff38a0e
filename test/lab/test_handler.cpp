// Request -> answer over a shared folder, without sockets.
#define BOOST_TEST_MODULE handler
#include <boost/test/unit_test.hpp>

#include "p2p/lab/handler.hpp"
#include "p2p/swarm/indexer.hpp"
#include "p2p/util/sha256.hpp"
#include "support.hpp"

using namespace p2p;
using namespace std::string_literals;
using namespace std::chrono_literals;

namespace {

struct Folder {
    test::TempDir dir;
    Folder() { test::write_file(dir / "SkyShip.jpg", 85021); }
    FileIndex index() const { return FileIndex(dir.path()); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_FIXTURE_TEST_CASE(search_found_and_not_found, Folder) {
    auto idx = index();
    Reply r = handle_request({protocol::Verb::search, "SkyShip.jpg"}, idx);
    BOOST_TEST(r.header == "150 SkyShip.jpg found.");
    BOOST_TEST(r.log == "150 SkyShip.jpg found.");
    BOOST_TEST(!r.body);
    r = handle_request({protocol::Verb::search, "SkyPalace.jpg"}, idx);
    BOOST_TEST(r.header == "450 SkyPalace.jpg not found.");
}

BOOST_FIXTURE_TEST_CASE(request_found_has_field_length_and_body, Folder) {
    auto idx = index();
    Reply r = handle_request({protocol::Verb::request, "SkyShip.jpg"}, idx);
    BOOST_TEST(r.header.size() == 44u);
    BOOST_TEST(r.header.substr(0, 40) == protocol::format_status_field(true, "SkyShip.jpg"));
    BOOST_TEST(r.header.substr(40) == "\x00\x01\x4c\x1d"s);
    BOOST_REQUIRE(r.body);
    BOOST_TEST(r.body->size() == 85021u);
    BOOST_TEST(r.log == "250 SkyShip.jpg found. Length in bytes: 85021");
}

BOOST_FIXTURE_TEST_CASE(request_not_found_is_only_the_field, Folder) {
    auto idx = index();
    Reply r = handle_request({protocol::Verb::request, "SkyPalace.jpg"}, idx);
    BOOST_TEST(r.header == protocol::format_status_field(false, "SkyPalace.jpg"));
    BOOST_TEST(!r.body);
    BOOST_TEST(r.log == "550 SkyPalace.jpg not found.");
}

BOOST_FIXTURE_TEST_CASE(escaping_names_are_not_found, Folder) {
    auto idx = index();
    for (const char* name : {"../SkyShip.jpg", "/etc/passwd", "..", "a\\b"}) {
        BOOST_TEST(handle_request({protocol::Verb::search, name}, idx).header.substr(0, 4) == "450 ");
        Reply r = handle_request({protocol::Verb::request, name}, idx);
        BOOST_TEST(r.header.substr(0, 4) == "550 ");
        BOOST_TEST(!r.body);
    }
}

BOOST_FIXTURE_TEST_CASE(empty_file_has_length_zero, Folder) {
    test::write_file(dir / "empty", 0);
    auto idx = index();
    Reply r = handle_request({protocol::Verb::request, "empty"}, idx);
    BOOST_TEST(r.header.substr(40) == std::string(4, '\0'));
    BOOST_REQUIRE(r.body);
    BOOST_TEST(r.body->size() == 0u);
}

// XREQ never waits for a hash: a file without a manifest (here 64 GiB, minutes of hashing) is
// answered at once with 261 (the digest follows the data); with the indexer's manifest, 260
// and the whole file's SHA-256 up front.
BOOST_AUTO_TEST_CASE(xreq_answers_at_once_with_the_digest_before_or_after_the_data) {
    test::TempDir dir;
    test::write_sparse_file(dir / "huge.bin", 64ull << 30);
    FileIndex idx(dir.path());
    const auto t0 = std::chrono::steady_clock::now();
    Reply r = handle_request({protocol::Verb::ext_request, "huge.bin", 0}, idx);
    BOOST_TEST(test::seconds_since(t0) < 5.0);
    BOOST_TEST(r.header == "261 " + std::to_string(64ull << 30) + "\n");
    BOOST_TEST(r.digest_after);
    BOOST_REQUIRE(r.body);

    test::write_file(dir / "small.bin", 3000, 4);
    boost::filesystem::remove(dir / "huge.bin");
    Indexer indexer(idx, {});
    indexer.start();
    BOOST_REQUIRE(indexer.wait_idle(test::patience));
    r = handle_request({protocol::Verb::ext_request, "small.bin", 1000}, idx, &indexer);
    Sha256 h;
    h.update(test::read_file(dir / "small.bin").data(), 3000);
    BOOST_TEST(r.header == "260 3000 " + h.hex_digest() + "\n");
    BOOST_TEST(!r.digest_after);
    BOOST_TEST(r.body_offset == 1000u);
}

BOOST_AUTO_TEST_SUITE_END()
