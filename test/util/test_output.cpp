// The output writer: order, a reader that stalls or vanishes, the bounded queue, stop().
// Runs on a real pipe, as the program's stdout is one when a script drives it.
#define BOOST_TEST_MODULE output
#include <boost/test/unit_test.hpp>

#include "p2p/util/output.hpp"
#include "support.hpp"

#include <cerrno>
#include <csignal>
#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <memory>
#include <regex>
#include <sys/socket.h>
#include <string>
#include <unistd.h>

using p2p::Output;
using p2p::test::seconds_since;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// A pipe whose buffer is one page, so a few lines fill it.
struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        r = fds[0];
        w = fds[1];
        ::fcntl(w, F_SETPIPE_SZ, 4096);
    }
    ~Pipe() {
        close_reader();
        if (w >= 0) ::close(w);
    }
    void close_reader() {
        if (r >= 0) ::close(r);
        r = -1;
    }
    /// Reads until `done(got, quiet)` holds - `quiet`: nothing arrived for 50 ms - or the pipe
    /// closes, or `timeout`; everything read.
    template <class Done>
    std::string read_while_not(Done done, std::chrono::milliseconds timeout) {
        std::string got;
        const auto deadline = Clock::now() + timeout;
        bool quiet = false;
        while (!done(got, quiet) && Clock::now() < deadline) {
            pollfd p{r, POLLIN, 0};
            quiet = ::poll(&p, 1, 50) <= 0;
            if (quiet) continue;
            char buf[4096];
            ssize_t n = ::read(r, buf, sizeof buf);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        return got;
    }
    /// Reads until `out` has written everything it holds and the pipe is empty (or `timeout`).
    std::string drain(Output& out, std::chrono::milliseconds timeout = 20s) {
        bool idle = false;
        return read_while_not([&](const std::string&, bool quiet) {
            const bool was_idle = idle;
            idle = out.flush(0ms);  // checked before the next read: nothing can follow it then
            return quiet && was_idle;
        }, timeout);
    }
    /// Reads until `needle` is in what was read (or `timeout`); everything read.
    std::string read_until(const std::string& needle, std::chrono::milliseconds timeout = 20s) {
        return read_while_not([&](const std::string& got, bool) {
            return got.find(needle) != std::string::npos;
        }, timeout);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(lines_reach_the_descriptor_whole_and_in_order) {
    Pipe pipe;
    Output out(pipe.w, false, false);
    out.line("one");
    out.prompt();
    out.server_line("from a handler");
    out.line("two");
    out.line("All sockets closed. Exiting program.");
    BOOST_TEST(out.flush(20s));
    BOOST_TEST(pipe.read_until("Exiting program.\n") ==
               "one\n>:from a handler\ntwo\nAll sockets closed. Exiting program.\n");
}

BOOST_AUTO_TEST_CASE(on_a_terminal_the_prompt_is_shown_again_after_a_server_line) {
    Pipe pipe;
    Output out(pipe.w, false, true);
    out.prompt();
    out.server_line("Connection established with peer 1");
    out.line("done");
    BOOST_TEST(out.flush(20s));
    BOOST_TEST(pipe.read_until("done\n") == ">:Connection established with peer 1\n>:done\n");
}

BOOST_AUTO_TEST_CASE(quiet_drops_server_lines_only) {
    Pipe pipe;
    Output out(pipe.w, true, false);
    out.server_line("not shown");
    out.line("shown");
    BOOST_TEST(out.flush(20s));
    BOOST_TEST(pipe.read_until("shown\n") == "shown\n");
}

// The defect this guards against: a handler thread writing to a stdout nobody reads blocked
// forever, and every other handler and the shutdown behind it.
BOOST_AUTO_TEST_CASE(a_reader_that_stalls_never_blocks_server_lines_and_drops_are_counted) {
    Pipe pipe;
    Output::Limits limits;
    limits.server_lines = 16;
    const std::string full = std::string(4095, '.') + '\n';  // the reader stalled, the pipe full
    BOOST_REQUIRE(::write(pipe.w, full.data(), full.size()) == static_cast<ssize_t>(full.size()));
    Output out(pipe.w, false, false, limits);
    const int total = 5000;
    const std::string filler(60, 'x');
    const auto t0 = Clock::now();
    for (int i = 0; i < total; ++i) {
        out.server_line("server " + std::to_string(i) + " " + filler);
        if (i % 1000 == 0) out.line("console " + std::to_string(i / 1000));  // never dropped
    }
    // Had any call waited for the reader, this would never finish. The bound only proves
    // "did not wait for the reader".
    BOOST_TEST(seconds_since(t0) < 20.0);
    BOOST_TEST(!out.flush(200ms));  // the reader is stalled: nothing could be written

    // The reader comes back: the queue drains, and each run of dropped lines is reported
    // where it happened ("(N server lines dropped)"), the last once the queue is empty.
    const std::string got = pipe.drain(out);
    int dropped = 0, notices = 0;
    const std::regex notice("\\(([0-9]+) server lines dropped\\)\n");
    for (auto it = std::sregex_iterator(got.begin(), got.end(), notice); it != std::sregex_iterator(); ++it) {
        dropped += std::stoi((*it)[1]);
        ++notices;
    }
    int delivered = 0;
    for (std::size_t at = got.find("server "); at != std::string::npos; at = got.find("server ", at + 1))
        if (at == 0 || got[at - 1] == '\n') ++delivered;
    BOOST_TEST(notices > 0);
    BOOST_TEST(dropped > 0);
    BOOST_TEST(delivered + dropped == total);
    BOOST_TEST(got.substr(got.size() - 25).find(" server lines dropped)\n") != std::string::npos,
               "the last drops are reported last");
    // And once the reader is back, server lines flow again, none dropped.
    out.server_line("after the stall");
    BOOST_TEST(pipe.read_until("after the stall\n").find("dropped") == std::string::npos);
    for (int i = 0; i < total / 1000; ++i)
        BOOST_TEST(got.find("console " + std::to_string(i) + "\n") != std::string::npos, "lost console " << i);
    // Order is kept for what was delivered: console 1 after server 0, console 4 last of them.
    BOOST_TEST(got.find("server 0 ") < got.find("console 1\n"));
    BOOST_TEST(got.find("console 3\n") < got.find("console 4\n"));
}

// A socket as stdout is not reopened: the writer waits in poll() before each write instead.
BOOST_AUTO_TEST_CASE(a_stalled_socket_never_blocks_the_writer_either) {
    int sv[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    Output::Limits limits;
    limits.server_lines = 16;
    auto out = std::make_unique<Output>(sv[0], false, false, limits);
    out->line("first");
    for (int i = 0; i < 20000; ++i) out->server_line("server " + std::to_string(i) + std::string(100, 'z'));
    const auto t0 = Clock::now();
    out->stop(300ms);  // the reader never read: the socket buffer is full
    BOOST_TEST(seconds_since(t0) < 10.0);
    out.reset();
    char buf[16] = {};
    BOOST_TEST(::read(sv[1], buf, 6) == 6);
    BOOST_TEST(std::string(buf) == "first\n");
    ::close(sv[0]);
    ::close(sv[1]);
}

BOOST_AUTO_TEST_CASE(stop_returns_by_its_deadline_while_the_reader_is_stalled) {
    Pipe pipe;
    Output out(pipe.w, false, false);
    for (int i = 0; i < 2000; ++i) out.line("line " + std::to_string(i) + std::string(60, 'y'));
    const auto t0 = Clock::now();
    out.stop(300ms);
    BOOST_TEST(seconds_since(t0) >= 0.29);  // it did try to flush
    BOOST_TEST(seconds_since(t0) < 10.0);   // and did not wait for the reader
    out.line("after stop: discarded, and no crash");
}

BOOST_AUTO_TEST_CASE(a_reader_that_is_gone_is_not_an_error) {
    ::signal(SIGPIPE, SIG_IGN);  // as the program does: a write to it is then EPIPE
    Pipe pipe;
    Output out(pipe.w, false, false);
    pipe.close_reader();
    for (int i = 0; i < 100; ++i) out.line("nobody reads this");
    BOOST_TEST(out.flush(20s));  // written off at once (EPIPE), not waited on
    out.stop(1s);
}

BOOST_AUTO_TEST_SUITE_END()
