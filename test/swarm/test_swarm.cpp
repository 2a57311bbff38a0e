// Swarm downloads with real programs on 127.0.0.1: `get` from four sources at once, a source
// killed mid-download, a source whose file no longer matches its manifest (bad chunks: struck
// out), resume after Ctrl-C, a file changed on its only source, and the fallbacks (no manifest
// yet; nothing found). Sources are slowed with --max-upload-rate so that every one of them
// takes part and there is time to act mid-download; the checks are on bytes and lines, never on
// speed. The cases labelled "slow" run in test/run.sh's release pass only (CI time); the
// sanitizer passes run the four sources, the bad chunks and the resume, where the threads are.
#define BOOST_TEST_MODULE swarm
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <regex>

using namespace p2p::test;
using Clock = std::chrono::steady_clock;
namespace utf = boost::unit_test;

namespace {

constexpr std::uint64_t mib = 1024 * 1024;

/// `n` source nodes serving `name` (`size` bytes of pattern `seed`), their manifests ready.
/// The files are written once all have started, so their indexers hash them in parallel.
std::vector<std::unique_ptr<OverlayNode>> sources(int n, const std::string& name, std::uint64_t size, unsigned seed,
                                                  const std::vector<std::string>& extra = {"--max-upload-rate", "2M"}) {
    // --verbose: the "Manifest of ... ready" lines they wait for are detail lines.
    std::vector<std::string> args = {"--neighbours", "0", "--verbose"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<std::unique_ptr<OverlayNode>> nodes;
    for (int i = 0; i < n; ++i) nodes.push_back(std::make_unique<OverlayNode>(args));
    // Written beside the folder, then moved in whole: the indexer never sees half a file.
    for (auto& node : nodes) {
        write_file(node->dir / name, size, seed);
        fs::rename(node->dir / name, node->dir / "shared" / name);
    }
    for (auto& node : nodes)
        BOOST_REQUIRE_MESSAGE(node->child->wait_for_at(0, "Manifest of " + name + " ready", patience) != std::string::npos,
                              node->child->output());
    return nodes;
}

std::string ids(const std::vector<std::unique_ptr<OverlayNode>>& nodes) {
    std::string out;
    for (const auto& n : nodes) out += " " + n->id();
    return out;
}

/// The last non-empty line of a command's output.
std::string last_line(const std::string& out) {
    auto end = out.find_last_not_of('\n');
    auto start = out.rfind('\n', end);
    return out.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(integration)

// Four sources, each at 2 MiB/s: every one delivers chunks, the file is byte-identical, and
// the last line is the one scripts wait for.
BOOST_AUTO_TEST_CASE(four_sources_share_one_download, *utf::timeout(300)) {
    auto sources = ::sources(4, "big.bin", 12 * mib + 12345, 5);
    OverlayNode me({"--neighbours", "0", "--verbose"});  // it waits for its manifest line
    const std::string out = me.command("get big.bin" + ids(sources), big_transfer);
    BOOST_TEST(last_line(out) == "big.bin: " + std::to_string(12 * mib + 12345) + " bytes received from 4 sources.", out);
    BOOST_TEST(out.find("Every chunk verified (SHA-256, root ") != std::string::npos, out);
    BOOST_TEST(same_bytes(me.dir / "shared" / "big.bin", sources[0]->dir / "shared" / "big.bin"));
    BOOST_TEST(!fs::exists(me.dir / "shared" / "big.bin.swarm.part"));
    BOOST_TEST(!fs::exists(me.dir / "state" / "downloads" / "big.bin.chunks"));
    // Each source served a share: chunks are not logged one by one, but the manifest is.
    for (auto& s : sources) BOOST_TEST(s->child->wait_for_at(0, ":  270 big.bin: manifest of 13 chunks") != std::string::npos);
    // The node indexes what it received, and serves it in turn.
    BOOST_TEST(me.child->wait_for_at(0, "Manifest of big.bin ready", patience) != std::string::npos);
    OverlayNode next({"--neighbours", "0"});
    BOOST_TEST(last_line(next.command("get big.bin " + me.id(), big_transfer)) ==
               "big.bin: " + std::to_string(12 * mib + 12345) + " bytes received from 1 source.");
    for (auto& s : sources) BOOST_TEST(s->quit() == 0);
    BOOST_TEST(me.quit() == 0);
    BOOST_TEST(next.quit() == 0);
}

// A source killed mid-download: its chunks go to the others, and the file is complete.
BOOST_AUTO_TEST_CASE(a_source_that_vanishes_loses_its_chunks_to_the_others, *utf::timeout(300) * utf::label("slow")) {
    auto sources = ::sources(3, "big.bin", 12 * mib, 6);
    OverlayNode me({"--neighbours", "0"});
    me.child->send("get big.bin" + ids(sources) + "\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    sources[1]->child->kill_now(SIGKILL);
    const std::size_t at = me.child->wait_for_at(me.seen, "bytes received from", big_transfer);
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, me.child->output());
    const std::string out = me.command("");
    BOOST_TEST(out.find("Source " + sources[1]->id() + " disconnected; its chunks go to the others.") != std::string::npos, out);
    BOOST_TEST(std::regex_search(out, std::regex("big\\.bin: [0-9]+ bytes received from 3 sources\\.")), out);
    BOOST_TEST(same_bytes(me.dir / "shared" / "big.bin", sources[0]->dir / "shared" / "big.bin"));
    BOOST_TEST(me.quit() == 0);
}

// A source whose file no longer matches the manifest it announces (rewritten in place with its
// old modification time, as bit rot would): its chunks fail, it is struck out and banned, and
// the others complete the file byte for byte.
BOOST_AUTO_TEST_CASE(a_source_sending_bad_chunks_is_struck_out, *utf::timeout(300)) {
    auto sources = ::sources(4, "big.bin", 16 * mib, 7);
    {
        const fs::path f = sources[2]->dir / "shared" / "big.bin";
        struct stat st {};
        BOOST_REQUIRE(::stat(f.c_str(), &st) == 0);
        const int fd = ::open(f.c_str(), O_WRONLY);
        BOOST_REQUIRE(fd >= 0);
        const std::string junk(16 * mib, 'x');
        BOOST_REQUIRE(::pwrite(fd, junk.data(), junk.size(), 0) == static_cast<ssize_t>(junk.size()));
        ::close(fd);
        const struct timespec times[2] = {st.st_atim, st.st_mtim};
        BOOST_REQUIRE(::utimensat(AT_FDCWD, f.c_str(), times, 0) == 0);
    }
    OverlayNode me({"--neighbours", "0"});
    const std::string out = me.command("get big.bin" + ids(sources), big_transfer);
    BOOST_TEST(out.find("failed its SHA-256 (strike 1 of 3); asked again.") != std::string::npos, out);
    BOOST_TEST(out.find("Source " + sources[2]->id() + " sent 3 chunks that failed their SHA-256; dropped from this "
                        "download and banned.") != std::string::npos, out);
    BOOST_TEST(std::regex_search(last_line(out), std::regex("big\\.bin: 16777216 bytes received from 3 sources\\.")), out);
    BOOST_TEST(same_bytes(me.dir / "shared" / "big.bin", sources[0]->dir / "shared" / "big.bin"));
    BOOST_TEST(me.command("connect " + sources[2]->id()).find("refused: it is banned for ") != std::string::npos);
    BOOST_TEST(me.quit() == 0);
}

// Ctrl-C keeps the verified chunks; the next run of the program resumes from them.
BOOST_AUTO_TEST_CASE(ctrl_c_keeps_verified_chunks_and_get_resumes, *utf::timeout(300)) {
    auto src = std::move(sources(1, "big.bin", 16 * mib, 8).front());
    TempDir keep;
    fs::create_directories(keep / "shared");
    {
        OverlayNode me({"--neighbours", "0", "--shared", (keep / "shared").string()}, keep / "state");
        me.child->send("get big.bin " + src->id() + "\n");
        // About 4 of 16 chunks at 2 MiB/s, then Ctrl-C.
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));
        me.child->kill_now(SIGINT);
        BOOST_TEST(me.child->wait_exit() == 0);
        BOOST_TEST(std::regex_search(me.child->output(), std::regex("Get big\\.bin interrupted; [1-9][0-9]* of 16 chunks "
                                                                    "verified and kept in big\\.bin\\.swarm\\.part, 'get big\\.bin' resumes\\.")),
                   me.child->output());
    }
    BOOST_TEST(fs::exists(keep / "shared" / "big.bin.swarm.part"));
    BOOST_TEST(fs::exists(keep / "state" / "downloads" / "big.bin.chunks"));
    BOOST_TEST(src->command("limit up 0").find("Upload limit set to unlimited.\n") != std::string::npos);  // the rest at full speed
    OverlayNode again({"--neighbours", "0", "--shared", (keep / "shared").string()}, keep / "state");
    const std::string out = again.command("get big.bin " + src->id(), big_transfer);
    BOOST_TEST(std::regex_search(out, std::regex("Resumed: [1-9][0-9]* of 16 chunks were already here")), out);
    std::smatch m;
    BOOST_REQUIRE(std::regex_search(out, m, std::regex("big\\.bin: ([0-9]+) bytes received from 1 source\\.")));
    BOOST_TEST(std::stoull(m[1]) < 16 * mib);
    BOOST_TEST(same_bytes(keep / "shared" / "big.bin", src->dir / "shared" / "big.bin"));
    BOOST_TEST(!fs::exists(keep / "state" / "downloads" / "big.bin.chunks"));
    BOOST_TEST(again.quit() == 0);
}

// The file changes on its only source mid-download: detected (another root), reported, and
// nothing of the new version is mixed into the old one.
BOOST_AUTO_TEST_CASE(a_file_changed_on_the_source_is_reported_not_mixed, *utf::timeout(300) * utf::label("slow")) {
    auto src = std::move(sources(1, "big.bin", 16 * mib, 9).front());
    OverlayNode me({"--neighbours", "0"});
    me.child->send("get big.bin " + src->id() + "\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    write_file(src->dir / "shared" / "big.bin.new", 16 * mib, 10);
    fs::rename(src->dir / "shared" / "big.bin.new", src->dir / "shared" / "big.bin");
    BOOST_REQUIRE_MESSAGE(me.child->wait_for_at(me.seen, "Get big.bin failed: it changed on every source", big_transfer) !=
                          std::string::npos, me.child->output() << "\n---- source:\n" << src->child->output());
    const std::string out = me.command("");
    BOOST_TEST(out.find("Source " + src->id() + " no longer has this version of big.bin (it changed there)") !=
               std::string::npos, out);
    BOOST_TEST(!fs::exists(me.dir / "shared" / "big.bin"));
    BOOST_TEST(me.quit() == 0);
}

// Fallbacks: a source without a manifest yet serves the file whole (XREQ, the digest after the
// data); a name nobody has is reported.
BOOST_AUTO_TEST_CASE(without_a_manifest_the_file_comes_whole, *utf::timeout(120) * utf::label("slow")) {
    TempDir shared;
    // The indexer's first scan finds only this one, and hashing it takes half a minute or more
    // (sparse: no disk is used): late.txt waits behind it.
    write_sparse_file(shared / "huge.bin", 64ull << 30);
    OverlayNode src({"--neighbours", "0", "--shared", shared.path().string()});
    std::this_thread::sleep_for(std::chrono::seconds(1));
    write_file(shared / "late.txt", 1000, 3);
    OverlayNode me({"--neighbours", "0"});
    BOOST_TEST(me.command("get nothing.txt " + src.id()).find("No source could serve nothing.txt; nothing fetched.") !=
               std::string::npos);
    const std::string out = me.command("get late.txt " + src.id());
    BOOST_TEST(out.find("Source " + src.id() + " has not hashed late.txt yet.") != std::string::npos, out);
    BOOST_TEST(out.find("No source has a manifest of late.txt ready; fetching it whole from " + src.id() + ".") !=
               std::string::npos, out);
    BOOST_TEST(out.find("late.txt found on " + std::to_string(src.port) + ". 1000 bytes received.\nSHA-256 verified.") !=
               std::string::npos, out);
    BOOST_TEST(same_bytes(me.dir / "shared" / "late.txt", shared / "late.txt"));
    BOOST_TEST(src.child->wait_for_at(0, ":  261 late.txt found. Length in bytes: 1000, SHA-256 after the data") != std::string::npos);
    BOOST_TEST(src.quit() == 0);
    BOOST_TEST(me.quit() == 0);
}

// The console shows what the user can act on: a small file's manifest is a detail line, kept in
// <state>/node.log and printed only with --verbose (a slow one is always printed).
BOOST_AUTO_TEST_CASE(manifest_lines_go_to_the_log_and_to_the_console_only_with_verbose, *utf::timeout(180)) {
    TempDir folder;
    constexpr std::size_t files = 50;
    for (std::size_t i = 0; i < files; ++i) write_file(folder / ("f" + std::to_string(i) + ".txt"), 100, unsigned(i));
    for (const bool verbose : {false, true}) {
        BOOST_TEST_CONTEXT("verbose " << verbose) {
            std::vector<std::string> args = {"--neighbours", "0", "--shared", folder.path().string()};
            if (verbose) args.push_back("--verbose");
            OverlayNode n(args);  // its own state folder: every file is hashed again
            const fs::path log = n.dir / "state" / "node.log";
            const auto deadline = Clock::now() + patience;
            while (count(read_file(log), "Manifest of ") < files && Clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            BOOST_TEST(count(read_file(log), "Manifest of ") == files);
            BOOST_TEST(count(read_file(log), " ready: 1 chunk, root ") == files);
            n.command("lp");  // a round trip: what was printed before it is on the console now
            BOOST_TEST(count(n.child->output(), "Manifest of ") == (verbose ? files : 0u), n.child->output());
            BOOST_TEST(n.quit() == 0);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
