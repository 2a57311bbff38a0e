#include "p2p/console/console.hpp"

#include "p2p/console/line_editor.hpp"
#include "p2p/lab/protocol.hpp"

#include <cerrno>
#include <poll.h>
#include <set>
#include <unistd.h>

namespace p2p {

Console::Console(Node& node, Output& output, int input_fd, int wake_fd)
    : node_(node), out_(output), input_fd_(input_fd), wake_fd_(wake_fd), ctx_{node, output} {
    table_.add({"help",
                [this](const Args& args) {
                    help(args);
                    return true;
                },
                {{10, "help / ?: Show usage of all commands."},
                 {CommandTable::ours, "help more: The commands beyond the lab's; help <command>: one command's usage."}},
                nullptr});
    table_.alias("?", "help");
    // Each group of commands, in its own file (commands.hpp): a new capability adds one line.
    add_lab_commands(table_, ctx_);
    add_overlay_commands(table_, ctx_);
    add_trust_commands(table_, ctx_);
    add_swarm_commands(table_, ctx_);
    add_dht_commands(table_, ctx_);
}

Console::~Console() {
    if (editor_) out_.hand_prompt_to(-1);  // before the editor closes the doorbell
}

void Console::help(const Args& args) {
    // The lab's block alone, as its transcripts show it; ours on request. No line of ours holds
    // ">:": scripts and tests take that for the prompt.
    if (args.empty()) return print_block(table_.usage(CommandTable::Part::lab));
    if (args[0] == "more") {
        auto lines = table_.usage(CommandTable::Part::ours);
        lines.insert(lines.begin(), "Beyond the lab (README.md, docs/overlay.md):");
        return print_block(lines);
    }
    const auto lines = table_.usage_of(args[0]);
    if (lines.empty())
        return out_.line("No command '" + protocol::escape_control(args[0]) + "'; 'help' lists the lab's, 'help more' the others.");
    for (const auto& l : lines) out_.line(l);
}

void Console::print_block(const std::vector<std::string>& lines) {
    out_.line("");
    for (const auto& l : lines) out_.line(l);
    out_.line("");
}

void Console::run() {
    // A terminal on both sides: lines are edited, recalled and completed (docs/architecture.md).
    if (::isatty(input_fd_) == 1 && out_.interactive()) {
        const auto& state = node_.config().state_dir;
        try {
            editor_ = std::make_unique<LineEditor>(
                input_fd_, state.empty() ? state : state / "history",
                [this](const std::string& before, const std::string& word) { return completions(before, word); });
            out_.hand_prompt_to(editor_->doorbell_write_fd());
        } catch (const std::exception&) {
            editor_.reset();  // no pipe: plain reading, as from a pipe
        }
    }
    help({});
    std::string line;
    do {
        out_.prompt();
        if (!read_line(line)) break;
    } while (execute(line));
    if (editor_) {
        const bool mid_line = editor_->editing();
        out_.hand_prompt_to(-1);
        editor_.reset();  // the terminal's own mode back, the history saved
        if (mid_line) out_.line("");  // Ctrl-C at the prompt: the exit line on a line of its own
    }
}

std::vector<std::string> Console::completions(const std::string& before_word, const std::string& word) {
    auto starts = [&word](const std::string& s) { return s.compare(0, word.size(), word) == 0; };
    const auto w = split_words(before_word);
    if (w.empty()) return table_.names_starting(word);
    const Command* command = table_.find(w[0]);
    std::vector<std::string> out;
    if (!command || !command->peer_goes_here || !command->peer_goes_here(w)) return out;
    std::vector<PeerId> peers = node_.connected_peers();
    for (const auto& e : node_.known_peers()) peers.push_back(e.id);
    std::set<std::string> ids;
    for (const auto& p : peers) {
        // As the console shows it (a bare port on our host), or host:port if that is what is typed.
        const std::string shown = ctx_.shown(p);
        if (starts(shown)) ids.insert(shown);
        else if (starts(p.to_string())) ids.insert(p.to_string());
    }
    out.assign(ids.begin(), ids.end());
    return out;
}

bool Console::read_edited_line(std::string& line) {
    for (;;) {
        // The doorbell (the writer reached the prompt, or printed over the line), the terminal
        // while a line is edited, and the signal pipe; a negative descriptor is not polled.
        pollfd fds[3] = {{editor_->doorbell_fd(), POLLIN, 0},
                         {editor_->editing() ? input_fd_ : -1, POLLIN, 0},
                         {wake_fd_, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (fds[2].revents) return false;
        if (fds[0].revents) {
            editor_->drain_doorbell();
            if (out_.take_prompt_due()) editor_->show_prompt(">:");
            else editor_->redisplay();
        }
        if (fds[1].revents & POLLIN) {
            switch (editor_->feed(line)) {
            case LineEditor::Fed::line: return true;
            case LineEditor::Fed::end: return false;
            case LineEditor::Fed::more: break;
            }
        } else if (fds[1].revents) {
            return false;  // the terminal is gone
        }
    }
}

bool Console::read_line(std::string& line) {
    if (editor_) return read_edited_line(line);
    for (;;) {
        auto nl = pending_.find('\n');
        if (nl != std::string::npos) {
            line = pending_.substr(0, nl);
            pending_.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return true;
        }
        if (eof_) {  // a last line without '\n' still counts
            if (pending_.empty()) return false;
            line.swap(pending_);
            pending_.clear();
            return true;
        }
        pollfd fds[2] = {{input_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        int n = ::poll(fds, wake_fd_ >= 0 ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (wake_fd_ >= 0 && fds[1].revents) return false;
        char buf[4096];
        ssize_t got = ::read(input_fd_, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) eof_ = true;
        else pending_.append(buf, static_cast<std::size_t>(got));
    }
}

bool Console::execute(const std::string& line) {
    try {
        return dispatch(line);
    } catch (const std::exception& e) {
        // e.g. no thread could be started: report it and keep the console (and the node) alive.
        out_.line(std::string("Command failed: ") + e.what());
        return true;
    }
}

bool Console::dispatch(const std::string& line) {
    const auto w = split_words(line);
    const Command* command = table_.find(w.empty() ? "help" : w[0]);
    if (!command) {
        out_.line("Unknown command.");
        return true;
    }
    return command->run(Args(w.empty() ? w.begin() : w.begin() + 1, w.end()));
}

}  // namespace p2p
