// The one place console text goes through, so lines from handler threads never tear a line,
// and a console nobody reads never stalls a handler or the shutdown.
//
// For the program's stdout, every piece of text is queued and written by one writer thread:
// a caller only takes a short lock and appends. Server lines (from handler threads) are
// bounded: when the queue is full they are dropped and counted, and "(N server lines
// dropped)" is printed once output flows again. The answers to the user's own commands keep
// their order with everything else and are not dropped (up to a large byte bound).
#pragma once

#include <boost/thread/condition_variable.hpp>
#include <boost/thread/mutex.hpp>
#include <boost/thread/thread.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <ostream>
#include <string>
#include <string_view>

namespace p2p {

class NodeLog;

class Output {
public:
    /// Queue bounds of the writer thread.
    struct Limits {
        std::size_t server_lines = 1024;          ///< queued server lines at most; more are dropped
        std::size_t console_bytes = 16u << 20;    ///< queued console text at most (a runaway script)
    };

    /// `quiet` silences server-side lines; `interactive` (a terminal) enables progress bars
    /// and re-shows the prompt after a server line interrupted it.
    ///
    /// Writes to descriptor `fd` (the program's stdout) from a writer thread; a write never
    /// blocks that thread for long, so stop() always returns (see output.cpp).
    Output(int fd, bool quiet, bool interactive, Limits limits);
    Output(int fd, bool quiet, bool interactive) : Output(fd, quiet, interactive, Limits{}) {}
    /// Writes to `out` directly, under the lock, in the caller's thread: for in-process tests,
    /// whose streams never block.
    Output(std::ostream& out, bool quiet, bool interactive);
    /// stop() with a short flush deadline.
    ~Output();
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;

    /// A console line (result of a command).
    void line(const std::string& text);
    /// A line from the listener or a handler thread; dropped with --quiet, or when the queue
    /// is full. Never waits for the console.
    void server_line(const std::string& text);
    /// A background line the lab has no counterpart for (a manifest ready, a proved node id):
    /// to the log, and on the console only with --verbose (as a server line). From any thread.
    void detail_line(const std::string& text);
    /// Where detail lines go: `log` (may be null) always, the console when `verbose`. Set once,
    /// before any thread that prints them starts.
    void set_detail(bool verbose, NodeLog* log) {
        verbose_ = verbose;
        log_ = log;
    }
    /// The ">:" prompt, without newline.
    void prompt();
    /// Replaces the current progress line (terminal only).
    void progress(const std::string& text);
    /// Ends a progress line so the next line starts on a fresh one.
    void end_progress();

    bool interactive() const { return interactive_; }

    /// A line editor on the main thread draws the prompt and the line being typed (-1: none,
    /// the writer prints ">:" itself). With one, the writer prints no ">:": it writes a byte to
    /// `doorbell_fd` when the prompt is due (take_prompt_due() is then true once), and after a
    /// server line that it printed over the edited line (erased first with "\r\x1b[K"), so
    /// the editor draws the line again below it. Once this returns, the old descriptor is
    /// never written again.
    void hand_prompt_to(int doorbell_fd);
    /// True once for each prompt the writer reached while a line editor draws it.
    bool take_prompt_due() { return prompt_due_.exchange(false); }

    /// Waits until everything queued so far is written, for at most `timeout`; false if not.
    bool flush(std::chrono::milliseconds timeout);
    /// Flushes for at most `timeout`, then ends and joins the writer thread; text given
    /// afterwards is discarded. Idempotent.
    void stop(std::chrono::milliseconds timeout);

private:
    enum class Kind { line, server_line, prompt, progress, end_progress };
    struct Item {
        Kind kind;
        std::string text;
    };

    void submit(Kind kind, const std::string& text);
    /// Queues "(N server lines dropped)" / "(N console lines dropped)" for what was dropped.
    void push_drop_notices_locked();
    /// Writes one item to the terminal state machine (prompt, progress line) and the sink.
    void render(const Item& item);
    bool write(std::string_view text);
    void writer_loop() noexcept;

    const bool quiet_;
    const bool interactive_;
    bool verbose_ = false;    ///< set_detail(): detail lines on the console too
    NodeLog* log_ = nullptr;  ///< set_detail(): where detail lines are kept
    const Limits limits_;
    std::ostream* stream_ = nullptr;  ///< direct mode: the stream written to
    int fd_ = -1;                     ///< writer mode: the descriptor written to
    bool own_fd_ = false;             ///< fd_ is our private non-blocking reopening of it
    bool fd_failed_ = false;          ///< the descriptor is gone (EPIPE...): text is discarded
    std::atomic<bool> abandon_{false};  ///< stop(): give up on a write that cannot proceed

    /// Guards the queue and counters; callers hold it only to append. In direct mode
    /// (ostream) it is held across the write itself: that stream never blocks.
    boost::mutex mutex_;
    boost::condition_variable changed_;  ///< queue grew, drained, or stop was asked
    std::deque<Item> queue_;
    std::size_t queued_server_lines_ = 0;
    std::size_t queued_console_bytes_ = 0;
    std::size_t dropped_server_lines_ = 0;
    std::size_t dropped_console_lines_ = 0;
    bool writing_ = false;   ///< the writer holds an item it took from the queue
    bool stopping_ = false;
    bool stopped_ = false;
    int doorbell_fd_ = -1;   ///< hand_prompt_to(); rung by the writer with mutex_ held
    std::atomic<bool> prompt_due_{false};

    // Touched by render() only: the writer thread, or the caller under mutex_ in direct mode.
    bool prompt_shown_ = false;    ///< ">:" is the last thing on screen
    bool progress_shown_ = false;  ///< a progress line is open (no newline yet)
    bool editor_ = false;          ///< a line editor draws the prompt (copied from doorbell_fd_)
    bool ring_ = false;            ///< the editor must draw the prompt or the line again

    boost::thread writer_;  ///< last: started once everything above is ready
};

}  // namespace p2p
