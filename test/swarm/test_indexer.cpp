// The background indexer: manifests for the shared folder's files, kept on disk, dropped when
// a file changes or goes, and a stop that does not wait for a large file's hash.
#define BOOST_TEST_MODULE indexer
#include <boost/test/unit_test.hpp>

#include "p2p/lab/file_index.hpp"
#include "p2p/util/file_version.hpp"
#include "p2p/swarm/indexer.hpp"
#include "support.hpp"

#include <fcntl.h>
#include <fstream>
#include <set>
#include <stdexcept>
#include <thread>

using p2p::FileIndex;
using p2p::Indexer;
using p2p::Manifest;
using namespace p2p::test;

namespace {

constexpr std::uint32_t chunk = 1024;  // small chunks: several per test file

/// The names in `dir`.
std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
}

/// The store name of the version of `name` as it is now.
std::string store_name(const FileIndex& index, const std::string& name) {
    const auto file = index.open(name);
    BOOST_REQUIRE(file);
    return p2p::FileVersion::of(file->fd())->name();
}

/// Checks that the indexer's manifest of `name` is the one computed here from the same file.
void check_manifest(const Indexer& indexer, const FileIndex& index, const std::string& name) {
    const auto file = index.open(name);
    BOOST_REQUIRE(file);
    const auto found = indexer.find(*file);
    BOOST_REQUIRE_MESSAGE(found, "no manifest for " << name);
    const auto computed = p2p::compute_manifest(file->fd(), file->size(), chunk);
    BOOST_REQUIRE(computed);
    BOOST_TEST((*found == *computed), name);
}

/// A shared folder with three files (one empty) and a download in progress.
struct Folders {
    TempDir shared, state;
    fs::path store = state / "manifests";
    FileIndex index{shared.path()};
    const std::vector<std::string> files{"a.bin", "b.bin", "empty"};
    Folders() {
        write_file(shared / "a.bin", 3000, 1);
        write_file(shared / "b.bin", 5 * chunk, 2);
        write_file(shared / "empty", 0);
        write_file(shared / "c.bin.part", 2000, 3);
        fs::create_directory(shared / "subfolder");
    }
};

/// Those folders with an indexer that has finished its first scan.
struct Indexed : Folders {
    Indexer indexer{index, store, chunk};
    Indexed() {
        indexer.start();
        BOOST_REQUIRE(indexer.wait_idle(patience));
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(every_file_gets_a_manifest_and_a_stored_copy) {
    Indexed f;
    auto& indexer = f.indexer;
    for (const auto& name : f.files) check_manifest(indexer, f.index, name);
    const auto status = indexer.status();
    BOOST_TEST(status.files == 3u);  // not the .part file, not the folder
    BOOST_TEST(status.ready == 3u);
    BOOST_TEST(status.hashed_files == 3u);
    BOOST_TEST(status.loaded_files == 0u);
    BOOST_TEST(status.hashed_bytes == 3000u + 5 * chunk);
    std::set<std::string> expected;
    for (const auto& name : f.files) expected.insert(store_name(f.index, name));
    BOOST_TEST((names_in(f.store) == expected));
    // What is stored is what is served.
    const auto stored = p2p::parse_manifest(read_file(f.store / store_name(f.index, "a.bin")));
    BOOST_REQUIRE(stored);
    BOOST_TEST((*stored == *indexer.find(*f.index.open("a.bin"))));
    indexer.stop();
    indexer.stop();  // idempotent
}

BOOST_AUTO_TEST_CASE(a_part_file_is_never_indexed) {
    Indexed f;
    auto& indexer = f.indexer;
    const int fd = ::open((f.shared / "c.bin.part").c_str(), O_RDONLY | O_CLOEXEC);
    BOOST_REQUIRE(fd >= 0);
    p2p::OpenFile part(fd, 2000);
    BOOST_TEST(!indexer.find(part));
    BOOST_TEST(!names_in(f.store).count(p2p::FileVersion::of(fd)->name()));
}

BOOST_AUTO_TEST_CASE(a_second_indexer_loads_instead_of_hashing) {
    Folders f;
    {
        Indexer first(f.index, f.store, chunk);
        first.start();
        BOOST_REQUIRE(first.wait_idle(patience));
    }
    // A damaged stored copy is hashed again, and its file replaced.
    std::ofstream(f.store.string() + "/" + store_name(f.index, "b.bin"), std::ios::binary) << "garbage\n";
    std::ofstream((f.store / "notes.txt").string()) << "not the indexer's: kept\n";
    Indexer second(f.index, f.store, chunk);
    second.start();
    BOOST_REQUIRE(second.wait_idle(patience));
    const auto status = second.status();
    BOOST_TEST(status.loaded_files == 2u);
    BOOST_TEST(status.hashed_files == 1u);
    for (const auto& name : f.files) check_manifest(second, f.index, name);
    BOOST_TEST(p2p::parse_manifest(read_file(f.store / store_name(f.index, "b.bin"))).has_value());
    BOOST_TEST(names_in(f.store).count("notes.txt") == 1u);

    // Nothing damaged: everything loaded, nothing hashed.
    second.stop();
    Indexer third(f.index, f.store, chunk);
    third.start();
    BOOST_REQUIRE(third.wait_idle(patience));
    BOOST_TEST(third.status().hashed_files == 0u);
    BOOST_TEST(third.status().loaded_files == 3u);
}

BOOST_AUTO_TEST_CASE(a_modified_file_gets_a_new_manifest_and_loses_the_old) {
    Indexed f;
    auto& indexer = f.indexer;
    const std::string old_name = store_name(f.index, "a.bin");
    const auto old_file = f.index.open("a.bin");  // the old version, as a session would hold it
    BOOST_REQUIRE(indexer.find(*old_file));

    // Same size, new bytes, and a new time (a coarse clock could otherwise give the same one).
    const auto old_time = fs::last_write_time(f.shared / "a.bin");
    write_file(f.shared / "a.bin", 3000, 99);
    fs::last_write_time(f.shared / "a.bin", old_time + 10);
    BOOST_TEST(!indexer.find(*old_file));  // the descriptor now shows the new version
    BOOST_REQUIRE(indexer.wait_idle(patience));
    check_manifest(indexer, f.index, "a.bin");
    const auto names = names_in(f.store);
    BOOST_TEST(!names.count(old_name));
    BOOST_TEST(names.count(store_name(f.index, "a.bin")) == 1u);
    BOOST_TEST(names.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_deleted_file_loses_its_manifest) {
    Indexed f;
    auto& indexer = f.indexer;
    const std::string gone = store_name(f.index, "b.bin");
    fs::remove(f.shared / "b.bin");
    BOOST_REQUIRE(indexer.wait_idle(patience));
    BOOST_TEST(indexer.status().files == 2u);
    BOOST_TEST(indexer.status().ready == 2u);
    BOOST_TEST(!names_in(f.store).count(gone));
    BOOST_TEST(names_in(f.store).size() == 2u);
}

BOOST_AUTO_TEST_CASE(new_files_are_picked_up_in_memory_only) {
    TempDir shared;
    FileIndex index(shared.path());
    BOOST_CHECK_THROW(Indexer(index, {}, 1000), std::invalid_argument);  // not a power of two
    Indexer indexer(index, {}, chunk);  // no store
    indexer.start();
    BOOST_REQUIRE(indexer.wait_idle(patience));
    BOOST_TEST(indexer.status().files == 0u);
    write_file(shared / "late.bin", 4000, 4);
    BOOST_REQUIRE(indexer.wait_idle(patience));
    check_manifest(indexer, index, "late.bin");
    BOOST_TEST(names_in(shared.path()).size() == 1u);  // nothing written beside the files
}

BOOST_AUTO_TEST_CASE(stop_does_not_wait_for_a_large_file) {
    TempDir shared, state;
    write_sparse_file(shared / "huge.bin", 16ull << 30);  // zeros, no disk; seconds to hash
    FileIndex index(shared.path());
    Indexer indexer(index, state / "manifests");
    indexer.start();
    std::this_thread::sleep_for(300ms);  // well into the file
    const auto t0 = std::chrono::steady_clock::now();
    indexer.stop();
    BOOST_TEST(seconds_since(t0) < 2.0);
    BOOST_TEST(indexer.status().hashed_files == 0u);  // it was cut short, not finished
    BOOST_TEST(!indexer.find(*index.open("huge.bin")));
    BOOST_TEST(names_in(state / "manifests").empty());
}

BOOST_AUTO_TEST_SUITE_END()
