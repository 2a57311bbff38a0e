// Running out of threads is an error, not an abort: the program runs as an unprivileged user
// (root ignores RLIMIT_NPROC) under a low thread limit; a scan says which ports it could not
// probe, peers beyond the limit hear "421 Busy", and the node keeps serving.
#define BOOST_TEST_MODULE thread_limits
#include <boost/test/unit_test.hpp>

#include "p2p/lab/protocol.hpp"
#include "p2p/net/socket.hpp"
#include "p2p/lab/transfer.hpp"
#include "support.hpp"

#include <regex>
#include <thread>
#include <unistd.h>

using namespace p2p;
using namespace p2p::test;
namespace utf = boost::unit_test;

namespace {

// setpriv needs root to change user; elsewhere the test cannot run, and is reported skipped.
boost::test_tools::assertion_result as_root(utf::test_unit_id) {
    boost::test_tools::assertion_result r(::geteuid() == 0);
    r.message() << "needs root to run the node as another user under a thread limit";
    return r;
}

/// The answer to a connection that sends "SRCH x": a search answer, "421 ...", or "" if the
/// peer closed or said nothing. `peer` stays connected.
std::string search_answer(Socket& peer) {
    std::error_code ec;
    peer.write_all("SRCH x\n", ec);
    if (ec) return "";
    const std::string not_found = protocol::format_search_answer(false, "x");
    const std::string busy = protocol::busy_answer();
    std::string answer;
    // Neither answer has a terminator: read while what came is the start of one of them.
    while (answer != not_found && answer != busy &&
           (not_found.rfind(answer, 0) == 0 || busy.rfind(answer, 0) == 0) &&
           read_more(peer, answer, 1, {patience, nullptr}) == ReadStatus::ok) {
    }
    return answer;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(integration)

BOOST_AUTO_TEST_CASE(out_of_threads_is_an_error_not_an_abort, *utf::precondition(as_root)) {
    TempDir dir;
    // The unprivileged user must reach the program and its folder: both live in a 0755 copy.
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exe |
                                    fs::perms::others_read | fs::perms::others_exe);
    fs::copy_file(node_binary(), dir / "p2p-node");
    fs::create_directory(dir / "shared");
    fs::permissions(dir / "shared", fs::perms::all_all);

    // Main, output writer and listener take 3 threads (a sanitizer runtime may take one more):
    // a limit of 8 leaves a few for sessions and none to spare for 20 probes. The limit counts
    // every task of the user, so the user is one of this run's own (no passwd entry needed),
    // not 'nobody', which a parallel run or another program may be using.
    const std::string uid = std::to_string(61000 + ::getpid() % 4000);
    Child node({"prlimit", "--nproc=8", "setpriv", "--reuid=" + uid, "--regid=" + uid,
                "--clear-groups", (dir / "p2p-node").string(), "--port", "0", "--shared", "shared",
                "--scan-range", "1-20"},
               dir.path());
    const std::uint16_t port = node.listening_port();
    BOOST_REQUIRE_MESSAGE(port != 0, "the node did not start:\n" << node.output());

    // More peers than threads: each one is either served or told to come back later.
    std::vector<Socket> peers;
    int served = 0, busy = 0;
    for (int i = 0; i < 12; ++i) {
        std::error_code ec;
        peers.push_back(Socket::connect("127.0.0.1", port, patience, ec));
        BOOST_REQUIRE(!ec);
        const std::string answer = search_answer(peers.back());
        if (answer == protocol::format_search_answer(false, "x")) ++served;
        else if (answer == protocol::busy_answer()) ++busy;
        else BOOST_ERROR("peer " << i << " got '" << answer << "'");
    }
    BOOST_TEST(served >= 1);
    BOOST_TEST(busy >= 1);
    BOOST_TEST(node.wait_for("No thread could be started for peer "));

    // The sessions hold the threads: a scan cannot start its probes and says so.
    node.send("scan\n");
    BOOST_TEST(node.wait_for(" not scanned."));
    std::smatch m;
    const std::string out = node.output();
    BOOST_TEST(std::regex_search(out, m, std::regex(
        "scan: could not start probe threads \\(Resource temporarily unavailable\\); ([0-9]+) ports not scanned\\.")));
    BOOST_TEST(out.find("terminate") == std::string::npos);

    // Threads come back when the peers leave: the node serves again, and scans.
    peers.clear();
    bool served_again = false;
    for (int attempt = 0; attempt < 100 && !served_again; ++attempt) {
        std::error_code ec;
        Socket again = Socket::connect("127.0.0.1", port, patience, ec);
        BOOST_REQUIRE(!ec);
        served_again = search_answer(again) == protocol::format_search_answer(false, "x");
        if (!served_again) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_TEST(served_again);
    node.send("quit\n");
    BOOST_TEST(node.wait_exit() == 0);
    BOOST_TEST(node.output().find("All sockets closed. Exiting program.") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
