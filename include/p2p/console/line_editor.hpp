// Line editing, history and completion for the console on a terminal (libedit's readline API in
// its callback form): the console's own poll loop feeds it one keystroke at a time, so the
// signal pipe still ends the console at once. Main thread only: readline is one global state.
#pragma once

#include <boost/filesystem/path.hpp>

#include <functional>
#include <string>
#include <vector>

namespace p2p {

class LineEditor {
public:
    /// The words that complete `word`, given the line before it.
    using Completer =
        std::function<std::vector<std::string>(const std::string& before_word, const std::string& word)>;

    /// Edits lines read from the terminal `input_fd`, drawn on stdout. History is loaded from
    /// `history_file` and written back by save_history() (empty path: kept in memory only).
    /// At most one LineEditor exists at a time.
    LineEditor(int input_fd, boost::filesystem::path history_file, Completer completer);
    /// Leaves the terminal as it found it and saves the history.
    ~LineEditor();
    LineEditor(const LineEditor&) = delete;
    LineEditor& operator=(const LineEditor&) = delete;

    /// The read end of the doorbell pipe: poll it with the input, then call on_doorbell().
    int doorbell_fd() const { return doorbell_[0]; }
    /// The write end, for the output writer: one byte asks for the prompt or a redisplay.
    int doorbell_write_fd() const { return doorbell_[1]; }
    /// Empties the doorbell pipe.
    void drain_doorbell();

    /// Draws `prompt` and starts editing a new line (the terminal goes to raw mode).
    void show_prompt(const std::string& prompt);
    /// Draws the prompt and the line being edited again on the current (empty) screen line,
    /// after other text replaced them. Nothing when no line is being edited.
    void redisplay();
    /// True between show_prompt() and the end of that line.
    bool editing() const { return editing_; }

    enum class Fed { more, line, end };
    /// Reads and handles the keystroke(s) waiting on the input; `line` when a line was
    /// entered (it is then in `line` and in the history), `end` at end of input (Ctrl-D on an
    /// empty line). Afterwards the terminal is back in its normal mode until show_prompt().
    Fed feed(std::string& line);

    /// Writes the history to the history file (atomically); false if it could not.
    bool save_history();

    /// The `max_entries` most recent lines kept in the history and its file.
    static constexpr int max_entries = 500;

private:
    /// Ends the line being edited: the terminal leaves raw mode.
    void stop_editing();

    boost::filesystem::path history_file_;
    int doorbell_[2] = {-1, -1};
    bool editing_ = false;
};

}  // namespace p2p
