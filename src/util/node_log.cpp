#include "p2p/util/node_log.hpp"

#include <boost/filesystem/operations.hpp>
#include <boost/thread/lock_guard.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace p2p {

NodeLog::NodeLog(boost::filesystem::path file, std::size_t max_bytes)
    : file_(std::move(file)), max_bytes_(max_bytes) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    open_locked();
}

NodeLog::~NodeLog() {
    if (out_) std::fclose(out_);
}

void NodeLog::open_locked() {
    out_ = std::fopen(file_.c_str(), "a");
    if (!out_) {
        error_ = file_.string() + ": " + std::strerror(errno);
        return;
    }
    boost::system::error_code ec;
    const auto size = boost::filesystem::file_size(file_, ec);
    size_ = ec ? 0 : static_cast<std::size_t>(size);
}

void NodeLog::append(const std::string& line) {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S ", &local);
    const std::string text = stamp + line + "\n";
    boost::lock_guard<boost::mutex> lock(mutex_);
    if (!out_) return;
    if (size_ > 0 && size_ + text.size() > max_bytes_) {
        std::fclose(out_);
        out_ = nullptr;
        boost::system::error_code ec;
        boost::filesystem::rename(file_, file_.string() + ".1", ec);  // replaces the older one
        open_locked();
        if (!out_) return;
    }
    if (std::fwrite(text.data(), 1, text.size(), out_) == text.size()) size_ += text.size();
    std::fflush(out_);  // a crash keeps what was said
}

std::string NodeLog::error() const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    return error_;
}

}  // namespace p2p
