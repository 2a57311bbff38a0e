// The console on a terminal: the staged program run on a pseudo-terminal (forkpty), typed at
// with the keys a user presses: editing, history kept in the state folder, tab completion,
// server lines that arrive while a line is typed, Ctrl-C at the prompt.
#define BOOST_TEST_MODULE line_editor
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace p2p::test;

namespace {

const std::string exit_line = "All sockets closed. Exiting program.";
const std::string up = "\x1b[A";        // the Up arrow, as an xterm sends it
const std::string backspace = "\x7f";
const std::string ctrl_a = "\x01";

/// A child process on a pseudo-terminal of 24 x 200 (TERM=xterm, HOME its own folder so no
/// ~/.editrc applies): what it prints, echoes included, and the keys typed at it. Killed if
/// still running when destroyed.
class Terminal {
public:
    Terminal(const std::vector<std::string>& argv, const fs::path& home) {
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        const std::string home_env = "HOME=" + home.string();
        char* env[] = {const_cast<char*>("TERM=xterm"), const_cast<char*>(home_env.c_str()),
                       const_cast<char*>("LANG=C.UTF-8"), nullptr};
        winsize size{24, 200, 0, 0};
        pid_ = ::forkpty(&master_, nullptr, nullptr, &size);
        if (pid_ < 0) throw std::runtime_error("forkpty failed");
        if (pid_ == 0) {
            if (::chdir(home.c_str()) != 0) ::_exit(126);
            ::signal(SIGPIPE, SIG_DFL);
            ::execve(args[0], args.data(), env);
            ::_exit(127);
        }
        ::fcntl(master_, F_SETFD, FD_CLOEXEC);
    }
    ~Terminal() {
        if (!exited_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status_, 0);
        }
        ::close(master_);
    }
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;

    void type(const std::string& keys) {
        BOOST_REQUIRE(::write(master_, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
    }
    /// Waits until `needle` appears at or after `from`; its offset, or npos on timeout.
    std::size_t wait_for_at(std::size_t from, const std::string& needle,
                            std::chrono::milliseconds timeout = patience) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            auto pos = from <= output_.size() ? output_.find(needle, from) : std::string::npos;
            if (pos != std::string::npos) return pos;
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !pump(std::min(left, std::chrono::milliseconds(100))) && exited_)
                return std::string::npos;
        }
    }
    /// Waits for `needle` after everything seen so far; true if it came.
    bool next(const std::string& needle, std::chrono::milliseconds timeout = patience) {
        auto at = wait_for_at(seen_, needle, timeout);
        if (at == std::string::npos) return false;
        seen_ = at + needle.size();
        return true;
    }
    const std::string& output() const { return output_; }
    /// The exit code, or -1 on timeout (then killed), or 128+signal.
    int wait_exit(std::chrono::milliseconds timeout = patience) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!exited_) {
            if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
                exited_ = true;
                break;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status_, 0);
                exited_ = true;
                return -1;
            }
            pump(std::chrono::milliseconds(20));
        }
        while (pump(std::chrono::milliseconds(50))) {
        }
        return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
    }
    int pid() const { return pid_; }

private:
    /// Reads what is there within `timeout`; false if nothing came (or the terminal closed).
    bool pump(std::chrono::milliseconds timeout) {
        pollfd p{master_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
        char buf[4096];
        ssize_t n = ::read(master_, buf, sizeof buf);
        if (n <= 0) return false;  // EIO: every descriptor of the terminal's slave side is closed
        output_.append(buf, static_cast<std::size_t>(n));
        return true;
    }

    int pid_ = -1;
    int master_ = -1;
    int status_ = 0;
    bool exited_ = false;
    std::string output_;
    std::size_t seen_ = 0;
};

/// A node on a terminal with its own shared and state folders (under `dir`), at its first prompt.
struct TerminalNode {
    explicit TerminalNode(const TempDir& dir, const std::vector<std::string>& extra = {})
        : term(args(dir, extra), dir.path()) {
        BOOST_REQUIRE_MESSAGE(term.next("quit: Quit the program."), term.output());
        BOOST_REQUIRE_MESSAGE(term.next(">:"), term.output());
    }
    /// Types `keys`, then waits for `result` and the next prompt; false if either did not come.
    bool run(const std::string& keys, const std::string& result) {
        term.type(keys);
        return term.next(result) && term.next(">:");
    }
    /// Types `quit`; the exit code.
    int quit() {
        term.type("quit\r");
        return term.wait_exit();
    }
    static std::vector<std::string> args(const TempDir& dir, const std::vector<std::string>& extra) {
        std::vector<std::string> a = {node_binary().string(), "--port", "0", "--shared",
                                      (dir / "shared").string()};
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    }
    Terminal term;
};

/// A node on pipes, as the other tests drive it, at its first prompt; its port.
std::uint16_t start_piped(Child& c) {
    BOOST_REQUIRE(c.wait_for_at(0, "\n>:") != std::string::npos);
    const std::uint16_t port = c.listening_port();
    BOOST_REQUIRE(port != 0);
    return port;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_typo_is_fixed_with_backspace_and_ctrl_a_and_up_recalls_a_command) {
    TempDir dir;
    TerminalNode a(dir, {"--state", (dir / "state").string()});
    BOOST_TEST(a.run("lq" + backspace + "p\r", "List connected peers:"), a.term.output());  // lp
    // "peers", its first letter typed last.
    BOOST_TEST(a.run("eers" + ctrl_a + "p\r", "No known peers."), a.term.output());
    a.term.type(up);
    BOOST_TEST(a.term.next("peers"), a.term.output());  // the line drawn again, recalled
    BOOST_TEST(a.run("\r", "No known peers."), a.term.output());
    BOOST_TEST(a.run(up + up + "\r", "List connected peers:"), a.term.output());  // the one before
    BOOST_TEST(a.term.output().find("Unknown command.") == std::string::npos, a.term.output());
    BOOST_TEST(a.quit() == 0);
    BOOST_TEST(a.term.output().find(exit_line) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(tab_completes_commands_and_known_and_connected_peer_ids) {
    // A peer known from the state folder (never contacted), and one connected by completion.
    TempDir dir;
    fs::create_directories(dir / "state");
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch()).count();
    std::ofstream((dir / "state" / "known_peers").string()) << "10.0.0.7:5000 " << now << "\n";
    TempDir bdir;
    Child b({node_binary().string(), "--quiet", "--port", "0", "--shared", bdir.path().string()});
    const std::string bport = std::to_string(start_piped(b));

    TerminalNode a(dir, {"--state", (dir / "state").string()});
    a.term.type("conn\t");
    BOOST_TEST(a.term.next("ect "), a.term.output());  // "conn" became "connect "
    BOOST_TEST(a.run(bport + "\r", "Peer " + bport + " connected."), a.term.output());
    // Two known peers now; the one typed on our host completes to its bare port, as shown.
    a.term.type("disc\t" + bport.substr(0, 2) + "\t");
    BOOST_TEST(a.term.next(bport.substr(2) + " "), a.term.output());
    BOOST_TEST(a.run("\r", "Peer " + bport + " disconnected."), a.term.output());
    // Another host completes to host:port.
    a.term.type("disconnect 10\t");
    BOOST_TEST(a.term.next(".0.0.7:5000 "), a.term.output());
    BOOST_TEST(a.run("\r", "Peer 10.0.0.7:5000 is NOT connected."), a.term.output());
    BOOST_TEST(a.quit() == 0);
    b.send("quit\n");
    BOOST_TEST(b.wait_exit() == 0);
}

BOOST_AUTO_TEST_CASE(history_is_kept_in_the_state_folder_across_a_restart) {
    TempDir dir;
    {
        TerminalNode a(dir, {"--state", (dir / "state").string()});
        BOOST_TEST(a.run("lp\r", "List connected peers:"), a.term.output());
        BOOST_TEST(a.quit() == 0);
    }
    BOOST_TEST(fs::exists(dir / "state" / "history"));
    BOOST_TEST(!fs::exists(dir / "state" / "history.tmp"));
    TerminalNode again(dir, {"--state", (dir / "state").string()});
    again.term.type(up + up);  // quit, then lp
    BOOST_TEST(again.term.next("lp"), again.term.output());
    BOOST_TEST(again.run("\r", "List connected peers:"), again.term.output());
    BOOST_TEST(again.quit() == 0);
}

BOOST_AUTO_TEST_CASE(without_a_state_folder_history_lives_in_memory) {
    TempDir dir;
    TerminalNode a(dir);  // --port 0 without --state: no state folder
    BOOST_TEST(a.run("lp\r", "List connected peers:"), a.term.output());
    BOOST_TEST(a.run(up + "\r", "List connected peers:"), a.term.output());
    BOOST_TEST(a.quit() == 0);
    BOOST_TEST(!fs::exists(dir / "state"));
}

BOOST_AUTO_TEST_CASE(a_server_line_while_typing_keeps_the_line_being_typed) {
    TempDir dir;
    TerminalNode a(dir);
    a.term.type("sf x.t");
    BOOST_TEST(a.term.next("sf x.t"), a.term.output());
    // Another node connects: a handler thread prints a server line in the middle of the typing.
    const std::uint16_t aport = [&] {
        auto at = a.term.output().find("Node listening on 127.0.0.1:");
        BOOST_REQUIRE(at != std::string::npos);
        return static_cast<std::uint16_t>(std::stoi(a.term.output().substr(at + 28)));
    }();
    TempDir bdir;
    Child b({node_binary().string(), "--quiet", "--port", "0", "--shared", bdir.path().string()});
    start_piped(b);
    b.send("connect " + std::to_string(aport) + "\n");
    BOOST_TEST(a.term.next("Connection established with peer"), a.term.output());
    // The edited line was erased before it, and is drawn again after it, whole.
    BOOST_TEST(a.term.next(">:sf x.t"), a.term.output());
    BOOST_TEST(a.run("xt\r", "Search for x.txt on all connected peers:"), a.term.output());
    BOOST_TEST(a.quit() == 0);
    b.send("quit\n");
    BOOST_TEST(b.wait_exit() == 0);
}

BOOST_AUTO_TEST_CASE(ctrl_c_at_the_prompt_exits_0_at_once) {
    TempDir dir;
    TerminalNode a(dir, {"--state", (dir / "state").string()});
    a.term.type("lp\r");
    BOOST_TEST(a.term.next(">:"));
    a.term.type("half a li");
    BOOST_TEST(a.term.next("half a li"), a.term.output());
    const auto t0 = std::chrono::steady_clock::now();
    a.term.type("\x03");  // the terminal turns it into SIGINT
    BOOST_TEST(a.term.next(exit_line), a.term.output());
    BOOST_TEST(seconds_since(t0) < 3.0);
    BOOST_TEST(a.term.wait_exit() == 0);
    // The history is saved on this way out too.
    BOOST_TEST(read_file(dir / "state" / "history").find("lp") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sigterm_while_typing_exits_0) {
    TempDir dir;
    TerminalNode a(dir);
    a.term.type("conn");
    BOOST_TEST(a.term.next("conn"), a.term.output());
    ::kill(a.term.pid(), SIGTERM);
    BOOST_TEST(a.term.next(exit_line), a.term.output());
    BOOST_TEST(a.term.wait_exit() == 0);
}

BOOST_AUTO_TEST_CASE(ctrl_d_on_an_empty_line_is_end_of_input) {
    TempDir dir;
    TerminalNode a(dir);
    a.term.type("\x04");
    BOOST_TEST(a.term.next(exit_line), a.term.output());
    BOOST_TEST(a.term.wait_exit() == 0);
}
