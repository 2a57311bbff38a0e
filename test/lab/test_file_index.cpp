// The shared folder: safe names, what is served, where downloads land.
#define BOOST_TEST_MODULE file_index
#include <boost/test/unit_test.hpp>

#include "p2p/lab/file_index.hpp"
#include "support.hpp"

#include <sys/stat.h>
#include <unistd.h>

using p2p::FileIndex;
using namespace std::string_literals;
namespace fs = boost::filesystem;

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(safe_names) {
    BOOST_TEST(FileIndex::is_safe_name("SkyShip.jpg"));
    BOOST_TEST(FileIndex::is_safe_name("a..b"));
    BOOST_TEST(FileIndex::is_safe_name(".hidden"));
    BOOST_TEST(FileIndex::is_safe_name(std::string(255, 'x')));
    BOOST_TEST(FileIndex::is_safe_name("caf\xc3\xa9.txt"));  // UTF-8 is fine
}

BOOST_AUTO_TEST_CASE(unsafe_names) {
    for (const std::string& name :
         {""s, "."s, ".."s, "../x"s, "a/b"s, "/etc/passwd"s, "a\\b"s, "..\\x"s, "a\0b"s,
          "a\nb"s, "a\rb"s, "\x1b[2J"s, "a\x7f"s, std::string(256, 'x'), "x.part"s, ":p2p-ext:1"s})
        BOOST_TEST(!FileIndex::is_safe_name(name), "name " << p2p::test::count(name, "") << name);
}

BOOST_AUTO_TEST_CASE(serves_regular_files_inside_only) {
    p2p::test::TempDir root;
    fs::create_directory(root / "shared");
    p2p::test::write_file(root / "shared" / "a.txt", 1000);
    p2p::test::write_file(root / "secret.txt", 10);
    fs::create_directory(root / "shared" / "dir");
    FileIndex index(root / "shared");

    auto f = index.open("a.txt");
    BOOST_REQUIRE(f);
    BOOST_TEST(f->size() == 1000u);
    BOOST_TEST(!index.contains("missing.txt"));
    BOOST_TEST(!index.contains("dir"));          // not a regular file
    BOOST_TEST(!index.contains("../secret.txt"));
    BOOST_TEST(!index.contains((root / "secret.txt").string()));
}

BOOST_AUTO_TEST_CASE(symlinks_pointing_outside_are_not_served) {
    p2p::test::TempDir root;
    fs::create_directory(root / "shared");
    p2p::test::write_file(root / "secret.txt", 10);
    p2p::test::write_file(root / "shared" / "inside.txt", 10);
    fs::create_symlink(root / "secret.txt", root / "shared" / "link-out");
    fs::create_symlink("/etc/passwd", root / "shared" / "passwd");
    fs::create_symlink("inside.txt", root / "shared" / "link-in");
    fs::create_directory_symlink(root.path(), root / "shared" / "up");
    FileIndex index(root / "shared");
    BOOST_TEST(!index.contains("link-out"));
    BOOST_TEST(!index.contains("passwd"));
    BOOST_TEST(index.contains("link-in"));  // a link that stays inside is an ordinary file
    BOOST_TEST(!index.contains("up"));
}

BOOST_AUTO_TEST_CASE(partial_downloads_are_never_served) {
    p2p::test::TempDir root;
    p2p::test::write_file(root / "big.iso.part", 10);
    FileIndex index(root.path());
    BOOST_TEST(!index.contains("big.iso.part"));
    BOOST_TEST(index.partial_path_for("big.iso") == root / "big.iso.part");
    BOOST_TEST(index.path_for("big.iso") == root / "big.iso");
}

BOOST_AUTO_TEST_CASE(fifo_is_not_served_and_does_not_block) {
    p2p::test::TempDir root;
    BOOST_REQUIRE(::mkfifo((root / "pipe").c_str(), 0600) == 0);
    FileIndex index(root.path());
    BOOST_TEST(!index.contains("pipe"));
}

BOOST_AUTO_TEST_SUITE_END()
