// The node's log file (<state>/node.log): the background lines the console leaves out unless
// --verbose (a manifest ready, the node id a peer proved), each with the time. Bounded: past
// max_bytes the file becomes node.log.1 (replacing the one before) and a new one starts, so it
// never holds more than about twice that.
#pragma once

#include <boost/filesystem/path.hpp>
#include <boost/thread/mutex.hpp>

#include <cstddef>
#include <cstdio>
#include <string>

namespace p2p {

class NodeLog {
public:
    static constexpr std::size_t default_max_bytes = 1u << 20;

    /// Appends to `file` (created if missing). A file that cannot be opened makes append() a
    /// no-op, and error() says why: the log is a convenience, never a reason to stop.
    explicit NodeLog(boost::filesystem::path file, std::size_t max_bytes = default_max_bytes);
    ~NodeLog();
    NodeLog(const NodeLog&) = delete;
    NodeLog& operator=(const NodeLog&) = delete;

    /// One line, with the local time in front; from any thread.
    void append(const std::string& line);
    std::string error() const;

private:
    void open_locked();

    const boost::filesystem::path file_;
    const std::size_t max_bytes_;
    /// Guards the file and its size: the indexer and session threads append. Held across one
    /// small buffered write (and a rename when rotating), never across network I/O.
    mutable boost::mutex mutex_;
    std::FILE* out_ = nullptr;
    std::size_t size_ = 0;
    std::string error_;
};

}  // namespace p2p
