// The one place console text goes through, so lines from handler threads never tear a line.
#pragma once

#include <boost/thread/mutex.hpp>

#include <ostream>
#include <string>

namespace p2p {

class Output {
public:
    /// `quiet` silences server-side lines; `interactive` (a terminal) enables progress bars
    /// and re-shows the prompt after a server line interrupted it.
    Output(std::ostream& out, bool quiet, bool interactive)
        : out_(out), quiet_(quiet), interactive_(interactive) {}

    /// A console line (result of a command).
    void line(const std::string& text);
    /// A line from the listener or a handler thread; dropped with --quiet.
    void server_line(const std::string& text);
    /// The ">:" prompt, without newline.
    void prompt();
    /// Replaces the current progress line (terminal only).
    void progress(const std::string& text);
    /// Ends a progress line so the next line starts on a fresh one.
    void end_progress();

    bool interactive() const { return interactive_; }

private:
    void finish_progress_locked();

    /// One writer at a time: every line is written whole. Held across the write to the stream
    /// itself (that is the point); a stdout nobody reads therefore stalls server lines.
    boost::mutex mutex_;
    std::ostream& out_;
    const bool quiet_;
    const bool interactive_;
    bool prompt_shown_ = false;    ///< ">:" is the last thing on screen
    bool progress_shown_ = false;  ///< a progress line is open (no newline yet)
};

}  // namespace p2p
