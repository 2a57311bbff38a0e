// The seam between the lab's session and our capabilities (lab/session_hooks.hpp): which lines
// reach a registered handler, what a lab-only session does with our lines, and a gate that
// holds back an unproven peer. The session runs on one end of a socketpair.
#define BOOST_TEST_MODULE session_hooks
#include <boost/test/unit_test.hpp>

#include "p2p/lab/protocol.hpp"
#include "p2p/lab/session.hpp"
#include "p2p/lab/session_hooks.hpp"
#include "support.hpp"

#include <atomic>
#include <sstream>
#include <sys/socket.h>
#include <thread>

using namespace p2p;
using namespace std::chrono_literals;

namespace {

std::pair<Socket, Socket> socket_pair() {
    int fds[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    return {Socket(fds[0]), Socket(fds[1])};
}

/// A session with `hooks` on one end; the test speaks raw bytes on the other.
struct Served {
    test::TempDir dir;
    std::ostringstream log;
    Output output{log, false, false};
    std::atomic<bool> exit{false};
    std::unique_ptr<FileIndex> index;
    std::shared_ptr<Socket> server_end;
    Socket peer;
    std::thread thread;

    explicit Served(SessionHooks hooks) {
        test::write_file(dir / "a.txt", 10);
        index = std::make_unique<FileIndex>(dir.path());
        auto [a, b] = socket_pair();
        server_end = std::make_shared<Socket>(std::move(a));
        peer = std::move(b);
        SessionExtensions ext;
        ext.hooks = std::move(hooks);
        thread = std::thread([this, ext = std::move(ext)]() mutable {
            Session(server_end, 4242, *index, output, SessionLimits{}, exit, std::move(ext)).run();
        });
    }
    ~Served() { stop(); }
    void stop() {
        exit = true;
        if (server_end) server_end->shutdown();
        if (thread.joinable()) thread.join();
        output.stop(std::chrono::seconds(5));
    }
    /// Sends `line` and reads what comes back within a second (until the peer closes or is quiet).
    std::string ask(const std::string& line) {
        std::error_code ec;
        peer.write_all(line, ec);
        BOOST_REQUIRE(!ec);
        std::string got;
        char buf[4096];
        while (peer.wait_readable(got.empty() ? 2000ms : 200ms) == Wait::ready) {
            const std::size_t n = peer.read_some(buf, sizeof buf, ec);
            if (ec || n == 0) break;
            got.append(buf, n);
        }
        return got;
    }
};

/// A handler that answers "<tag> <line>\n".
LineHandler echo(const std::string& tag) {
    return [tag](SessionIo& io, const std::string& line) { return io.send(tag + " " + line + "\n"); };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(a_line_reaches_its_handler_only_in_the_forms_registered) {
    SessionHooks hooks;
    BOOST_TEST(!hooks.find("HELLO x"));  // nothing registered: every line is the lab's
    hooks.add("HELLO", echo("h"));
    hooks.add("PEERS", echo("p"), true);
    hooks.add("XMAN", echo("x"), true, " \t");
    BOOST_TEST(hooks.find("HELLO 127.0.0.1:5000 overlay/1"));
    BOOST_TEST(hooks.find("HELLO "));
    BOOST_TEST(!hooks.find("HELLO"));        // not bare
    BOOST_TEST(!hooks.find("HELLO\tx"));     // its protocol separates by a space only
    BOOST_TEST(!hooks.find("HELLOx y"));
    BOOST_TEST(!hooks.find("hello x"));
    BOOST_TEST(hooks.find("PEERS"));
    BOOST_TEST(hooks.find("PEERS 127.0.0.1:5000@0"));
    BOOST_TEST(hooks.find("XMAN\ta"));
    BOOST_TEST(hooks.find("XMAN"));
    BOOST_TEST(!hooks.find("SRCH a.txt"));
    BOOST_TEST(!hooks.find("REQ a.txt"));
    BOOST_TEST(!hooks.find(""));
}

BOOST_AUTO_TEST_CASE(a_lab_session_answers_our_lines_as_the_lab_does, *boost::unit_test::timeout(30)) {
    Served s{SessionHooks{}};
    // No capability registered: the lab's node alone, which knows no HELLO and no XMAN.
    BOOST_TEST(s.ask("HELLO 127.0.0.1:5000 overlay/1\n") == protocol::format_error_answer(protocol::ParseError::unknown_verb));
    BOOST_TEST(s.ask("SRCH a.txt") == protocol::format_search_answer(true, "a.txt"));
    s.stop();
    BOOST_TEST(s.log.str().find("Unknown message.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_registered_handler_answers_and_the_lab_keeps_the_rest, *boost::unit_test::timeout(30)) {
    SessionHooks hooks;
    hooks.add("HELLO", echo("ours"));
    Served s{std::move(hooks)};
    BOOST_TEST(s.ask("HELLO 127.0.0.1:5000 overlay/1\n") == "ours HELLO 127.0.0.1:5000 overlay/1\n");
    BOOST_TEST(s.ask("SRCH a.txt") == protocol::format_search_answer(true, "a.txt"));
}

namespace {

/// Lets through "STEP" lines and the probe until an "OPEN" line; says so in the log.
class TestGate : public SessionGate {
public:
    bool open() const override { return open_; }
    std::optional<bool> hold(SessionIo& io, const std::string& line, bool probe) override {
        if (line == "OPEN") {
            open_ = true;
            return io.send("opened\n");
        }
        if (probe || line.rfind("STEP", 0) == 0) return std::nullopt;
        io.log("held: " + line);
        return false;
    }
    std::chrono::milliseconds deadline() const override { return 10s; }
    void expired(SessionIo& io) override { io.log("gate expired"); }
    void ended(SessionIo& io) override { io.log(std::string("gate ended ") + (open_ ? "open" : "closed")); }

private:
    bool open_ = false;
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_closed_gate_serves_nothing_but_the_handshake_steps, *boost::unit_test::timeout(30)) {
    {
        SessionHooks hooks;
        hooks.add("STEP", echo("step"));
        hooks.gate = std::make_shared<TestGate>();
        Served s{std::move(hooks)};
        BOOST_TEST(s.ask("STEP 1\n") == "step STEP 1\n");
        BOOST_TEST(s.ask("SRCH a.txt\n").empty());  // held: the connection ends, no answer
        s.stop();
        BOOST_TEST(s.log.str().find("held: SRCH a.txt") != std::string::npos);
        BOOST_TEST(s.log.str().find("gate ended closed") != std::string::npos);
    }
    {
        SessionHooks hooks;
        hooks.gate = std::make_shared<TestGate>();
        Served s{std::move(hooks)};
        BOOST_TEST(s.ask("OPEN\n") == "opened\n");
        BOOST_TEST(s.ask("SRCH a.txt\n") == protocol::format_search_answer(true, "a.txt"));
        s.stop();
        BOOST_TEST(s.log.str().find("gate ended open") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()
