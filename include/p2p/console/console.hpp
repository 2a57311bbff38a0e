// The blocking console of the main thread: a line -> a command of the table -> printed lines.
#pragma once

#include "p2p/console/command_table.hpp"
#include "p2p/console/commands.hpp"
#include "p2p/node/node.hpp"
#include "p2p/util/output.hpp"

#include <memory>
#include <string>
#include <vector>

namespace p2p {

class LineEditor;

class Console {
public:
    /// Reads commands from `input_fd`; a byte on `wake_fd` (the signal pipe) ends the loop.
    Console(Node& node, Output& output, int input_fd, int wake_fd = -1);
    ~Console();

    /// Prints the usage, then runs commands until quit, end of input or a wake-up.
    void run();

    /// Runs one command line; false when it was `quit`.
    bool execute(const std::string& line);

    /// Tab completion: the words starting with `word` that may follow `before_word` (the line
    /// before it): a command name first, then a peer id (known or connected) where one goes.
    std::vector<std::string> completions(const std::string& before_word, const std::string& word);

private:
    /// execute() without the catch-all.
    bool dispatch(const std::string& line);
    /// Reads the next line; false at end of input or on a wake-up.
    bool read_line(std::string& line);
    /// read_line() through the line editor (input and output on a terminal).
    bool read_edited_line(std::string& line);
    /// `help` and `?`: the lab's block; `help more`: ours; `help <command>`: that command's.
    void help(const Args& args);
    /// Between two empty lines, as the lab prints its usage.
    void print_block(const std::vector<std::string>& lines);

    Node& node_;
    Output& out_;
    int input_fd_;
    int wake_fd_;
    std::string pending_;  ///< input bytes after the last complete line
    bool eof_ = false;
    std::unique_ptr<LineEditor> editor_;  ///< only while run() reads a terminal
    ConsoleContext ctx_;
    CommandTable table_;  ///< every command: dispatch, help and completion
};

}  // namespace p2p
