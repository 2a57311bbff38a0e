#include "p2p/output.hpp"

#include <boost/thread/lock_guard.hpp>

namespace p2p {

void Output::finish_progress_locked() {
    if (progress_shown_) {
        out_ << '\n';
        progress_shown_ = false;
    }
}

void Output::line(const std::string& text) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    finish_progress_locked();
    out_ << text << '\n' << std::flush;
    prompt_shown_ = false;
}

void Output::server_line(const std::string& text) {
    if (quiet_) return;
    boost::lock_guard<boost::mutex> lock(mutex_);
    finish_progress_locked();
    out_ << text << '\n';
    // As in the lab, the line lands after ">:"; on a terminal the prompt is shown again.
    if (prompt_shown_ && interactive_) out_ << ">:";
    out_ << std::flush;
}

void Output::prompt() {
    boost::lock_guard<boost::mutex> lock(mutex_);
    finish_progress_locked();
    out_ << ">:" << std::flush;
    prompt_shown_ = true;
}

void Output::progress(const std::string& text) {
    if (!interactive_) return;
    boost::lock_guard<boost::mutex> lock(mutex_);
    out_ << '\r' << text << "\x1b[K" << std::flush;
    progress_shown_ = true;
}

void Output::end_progress() {
    boost::lock_guard<boost::mutex> lock(mutex_);
    finish_progress_locked();
    out_ << std::flush;
}

}  // namespace p2p
