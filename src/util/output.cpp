#include "p2p/util/output.hpp"

#include "p2p/util/node_log.hpp"

#include "p2p/util/worker_thread.hpp"

#include <boost/thread/lock_guard.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace p2p {
namespace {

// How often a writer waiting for a stalled descriptor looks at the stop request.
constexpr int poll_slice_ms = 50;

std::string dropped_notice(std::size_t n, const char* what) {
    return "(" + std::to_string(n) + " " + what + " dropped)";
}

}  // namespace

Output::Output(int fd, bool quiet, bool interactive, Limits limits)
    : quiet_(quiet), interactive_(interactive), limits_(limits), fd_(fd) {
    // A pipe or terminal is reopened as a private non-blocking description: a write then never
    // blocks the writer (so stop() can always join it), and O_NONBLOCK is not forced on the
    // description the shell shares with us. If that fails, poll() before each write of at most
    // PIPE_BUF bytes keeps the writer responsive all the same.
    // Only a descriptor open for writing: the reopening must never make a read-only one writable.
    struct stat st {};
    const int mode = ::fcntl(fd, F_GETFL);
    const bool writable = mode >= 0 && ((mode & O_ACCMODE) == O_WRONLY || (mode & O_ACCMODE) == O_RDWR);
    if (writable && ::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || ::isatty(fd))) {
        const std::string self = "/proc/self/fd/" + std::to_string(fd);
        int own = ::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (own >= 0) {
            fd_ = own;
            own_fd_ = true;
        }
    }
    try {
        writer_ = start_worker("output", [this] { writer_loop(); });
    } catch (...) {
        if (own_fd_) ::close(fd_);
        throw;
    }
}

Output::Output(std::ostream& out, bool quiet, bool interactive)
    : quiet_(quiet), interactive_(interactive), limits_(), stream_(&out) {}

Output::~Output() {
    stop(std::chrono::milliseconds(500));
    if (own_fd_) ::close(fd_);
}

void Output::line(const std::string& text) { submit(Kind::line, text); }

void Output::server_line(const std::string& text) {
    if (!quiet_) submit(Kind::server_line, text);
}

void Output::detail_line(const std::string& text) {
    if (log_) log_->append(text);
    if (verbose_) server_line(text);
}

void Output::prompt() { submit(Kind::prompt, {}); }

void Output::progress(const std::string& text) {
    if (interactive_) submit(Kind::progress, text);
}

void Output::end_progress() { submit(Kind::end_progress, {}); }

void Output::hand_prompt_to(int doorbell_fd) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    doorbell_fd_ = doorbell_fd;
}

void Output::submit(Kind kind, const std::string& text) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    if (stopped_) return;
    if (stream_) {  // direct mode
        render({kind, text});
        return;
    }
    if (kind == Kind::server_line && queued_server_lines_ >= limits_.server_lines) {
        ++dropped_server_lines_;
        return;
    }
    // Room again, or a console line to place after them: say what is missing, where it is.
    if (dropped_server_lines_ > 0 && kind != Kind::progress) push_drop_notices_locked();
    switch (kind) {
    case Kind::server_line:
        ++queued_server_lines_;
        break;
    case Kind::progress:
        // A progress line only refreshes the one before it: replace one still waiting.
        if (!queue_.empty() && queue_.back().kind == Kind::progress) {
            queue_.back().text = text;
            return;
        }
        break;
    default:
        if (queued_console_bytes_ + text.size() > limits_.console_bytes) {
            ++dropped_console_lines_;
            return;
        }
        queued_console_bytes_ += text.size();
    }
    queue_.push_back({kind, text});
    changed_.notify_all();
}

void Output::push_drop_notices_locked() {
    // Counted like the lines they stand for, so the writer's accounting stays exact.
    if (dropped_server_lines_ > 0) {
        queue_.push_back({Kind::server_line, dropped_notice(dropped_server_lines_, "server lines")});
        ++queued_server_lines_;
    }
    if (dropped_console_lines_ > 0) {
        const std::string text = dropped_notice(dropped_console_lines_, "console lines");
        queue_.push_back({Kind::line, text});
        queued_console_bytes_ += text.size();
    }
    dropped_server_lines_ = dropped_console_lines_ = 0;
}

void Output::writer_loop() noexcept {
    boost::unique_lock<boost::mutex> lock(mutex_);
    for (;;) {
        // Output flowed until the queue drained: now report what could not wait for it.
        if (queue_.empty()) push_drop_notices_locked();
        if (queue_.empty()) {
            changed_.notify_all();  // flush() waits for this
            if (stopping_) return;
            changed_.wait(lock);
            continue;
        }
        Item item = std::move(queue_.front());
        queue_.pop_front();
        editor_ = doorbell_fd_ >= 0;
        if (item.kind == Kind::server_line) --queued_server_lines_;
        else if (item.kind != Kind::progress) queued_console_bytes_ -= std::min(queued_console_bytes_, item.text.size());
        writing_ = true;
        lock.unlock();
        try {
            render(item);
        } catch (...) {
            // Out of memory composing a line: lose that line, keep the writer.
        }
        lock.lock();
        writing_ = false;
        if (ring_ && doorbell_fd_ >= 0) {  // under the lock: hand_prompt_to(-1) then closes it safely
            char c = 1;
            [[maybe_unused]] ssize_t n = ::write(doorbell_fd_, &c, 1);  // non-blocking; full is rung
        }
        ring_ = false;
    }
}

void Output::render(const Item& item) {
    std::string out;
    auto finish_progress = [&] {
        if (progress_shown_) {
            out += '\n';
            progress_shown_ = false;
        }
    };
    switch (item.kind) {
    case Kind::line:
        finish_progress();
        out += item.text + '\n';
        prompt_shown_ = false;
        break;
    case Kind::server_line:
        finish_progress();
        // A line editor's line is erased, the server line takes its place, and the editor
        // draws prompt and line again below it (the main thread owns the editor).
        if (prompt_shown_ && interactive_ && editor_) out += "\r\x1b[K";
        out += item.text + '\n';
        // As in the lab, the line lands after ">:"; on a terminal the prompt is shown again.
        if (prompt_shown_ && interactive_) {
            if (editor_) ring_ = true;
            else out += ">:";
        }
        break;
    case Kind::prompt:
        finish_progress();
        if (editor_) {  // the editor draws it, now that everything before it is written
            prompt_due_.store(true);
            ring_ = true;
        } else {
            out += ">:";
        }
        prompt_shown_ = true;
        break;
    case Kind::progress:
        out += '\r' + item.text + "\x1b[K";
        progress_shown_ = true;
        break;
    case Kind::end_progress: finish_progress(); break;
    }
    if (!out.empty()) write(out);
}

bool Output::write(std::string_view text) {
    if (stream_) {
        *stream_ << text << std::flush;
        return true;
    }
    auto wait_writable = [this] {
        pollfd p{fd_, POLLOUT, 0};
        return ::poll(&p, 1, poll_slice_ms) > 0;
    };
    while (!text.empty() && !fd_failed_) {
        if (abandon_.load()) return false;
        // A blocking descriptor is written only once poll() says it will not block.
        if (!own_fd_ && !wait_writable()) continue;
        // At most PIPE_BUF: a pipe that reports POLLOUT takes that much without blocking.
        ssize_t w = ::write(fd_, text.data(), std::min<std::size_t>(text.size(), PIPE_BUF));
        if (w >= 0) {
            text.remove_prefix(static_cast<std::size_t>(w));
        } else if (errno == EAGAIN) {
            wait_writable();
        } else if (errno != EINTR) {
            // EPIPE (the reader is gone), ENOSPC, EIO: the text has nowhere to go. Say so once,
            // where the user may still look, and go on without output rather than stop.
            const std::string why = "p2p-node: stdout: " + std::string(std::strerror(errno)) +
                                    "; console output is discarded from here on.\n";
            [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, why.data(), why.size());
            fd_failed_ = true;
        }
    }
    return !fd_failed_ && text.empty();
}

bool Output::flush(std::chrono::milliseconds timeout) {
    boost::unique_lock<boost::mutex> lock(mutex_);
    if (stream_ || stopped_) return true;
    return changed_.wait_for(lock, boost::chrono::milliseconds(timeout.count()), [this] {
        return queue_.empty() && !writing_;
    });
}

void Output::stop(std::chrono::milliseconds timeout) {
    flush(timeout);
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        if (stopped_) return;
        stopped_ = stopping_ = true;
        changed_.notify_all();
    }
    abandon_.store(true);  // whatever is still queued is not worth waiting for
    if (writer_.joinable()) writer_.join();
}

}  // namespace p2p
