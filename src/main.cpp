// p2p-node: options, the node, the console. Everything else lives in p2p_core.
#include "p2p/console/console.hpp"
#include "p2p/net/peer_id.hpp"
#include "p2p/node/node.hpp"
#include "p2p/node/node_options.hpp"
#include "p2p/util/node_log.hpp"
#include "p2p/util/output.hpp"

#include <atomic>
#include <memory>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

namespace {

int g_wake_pipe[2] = {-1, -1};
std::atomic<bool>* g_exit_event = nullptr;

// Async-signal-safe: a lock-free atomic store and a write() to the console's wake pipe.
extern "C" void on_signal(int) {
    if (g_exit_event) g_exit_event->store(true);
    if (g_wake_pipe[1] >= 0) {
        char c = 1;
        [[maybe_unused]] ssize_t n = ::write(g_wake_pipe[1], &c, 1);
    }
}

void install_signal_handlers() {
    ::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error code, not the end of the process
    ::signal(SIGXFSZ, SIG_IGN);  // a file-size limit is a failed write (EFBIG), reported as such
    if (::pipe2(g_wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

int run(int argc, char* argv[]) {
    const p2p::ParsedOptions options = p2p::parse_options(argc, argv);
    if (options.exit_code) return *options.exit_code;
    const p2p::NodeConfig& config = options.config;

    install_signal_handlers();
    std::cout.flush();  // the port prompt; from here on only `output` writes to stdout
    p2p::Output output(STDOUT_FILENO, options.quiet, ::isatty(STDOUT_FILENO) == 1);
    // The detail lines' file, in the state folder (none without one); lives past node.stop().
    std::unique_ptr<p2p::NodeLog> log;
    if (!config.state_dir.empty()) log = std::make_unique<p2p::NodeLog>(config.state_dir / "node.log");
    output.set_detail(options.verbose, log.get());
    p2p::Node node(config, output);
    g_exit_event = &node.exit_event();
    std::error_code ec;
    node.start(ec);
    if (ec) {
        std::cerr << "p2p-node: cannot listen on " << p2p::PeerId{config.host, config.port}.to_string() << ": "
                  << ec.message() << '\n';
        return 1;
    }
    if (!options.state_note.empty()) output.line(options.state_note);
    if (log && !log->error().empty()) output.line("No log file is kept: " + log->error() + ".");
    p2p::Console console(node, output, STDIN_FILENO, g_wake_pipe[0]);
    console.run();
    node.stop();
    g_exit_event = nullptr;
    output.line("All sockets closed. Exiting program.");
    // A console nobody reads must not keep the process alive: one second to flush, then go.
    output.stop(std::chrono::seconds(1));
    return 0;
}

// A program started with stdin, stdout or stderr closed would hand those numbers to the first
// descriptors it opens (the signal pipe, a socket) and then talk to them as if they were the
// console: give each closed one /dev/null instead.
void ensure_standard_descriptors() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        int null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (null >= 0 && null != fd) {
            ::dup2(null, fd);
            ::close(null);
        }
    }
}

int main(int argc, char* argv[]) {
    ensure_standard_descriptors();
    // Nothing should reach here; if something does, say what instead of std::terminate.
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "p2p-node: fatal error: " << e.what() << '\n';
    } catch (...) {
        std::cerr << "p2p-node: fatal error\n";
    }
    return 1;
}
