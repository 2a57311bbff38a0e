// The shared folder: which names are safe, which files are served, where downloads land.
#pragma once


#include <boost/filesystem/path.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace p2p {

/// A regular file opened for reading; its size is taken from the open descriptor, so it is the
/// size of the bytes we will send even if the name is replaced meanwhile.
class OpenFile {
public:
    OpenFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
    OpenFile(OpenFile&& other) noexcept : fd_(other.fd_), size_(other.size_) { other.fd_ = -1; }
    OpenFile& operator=(OpenFile&& other) noexcept {
        std::swap(fd_, other.fd_);
        std::swap(size_, other.size_);
        return *this;
    }
    OpenFile(const OpenFile&) = delete;
    ~OpenFile();

    int fd() const { return fd_; }
    std::uint64_t size() const { return size_; }
    int release() { int fd = fd_; fd_ = -1; return fd; }

private:
    int fd_;
    std::uint64_t size_;
};

class FileIndex {
public:
    /// Serves the files directly inside `dir` (which must exist).
    explicit FileIndex(const boost::filesystem::path& dir);

    /// Suffix of a download in progress; such files are never served.
    static constexpr std::string_view partial_suffix = ".part";

    /// A plain name: not empty, not "." or "..", no '/', '\\', NUL or control bytes, at most 255
    /// bytes, not a download in progress, not the extension probe's reserved name. Anything
    /// else is never looked up, served or written.
    static bool is_safe_name(std::string_view name);

    /// Opens a served file: a safe name, a regular file, and - after following any symbolic
    /// link - still inside the shared folder. Otherwise nothing (the peer hears "not found").
    std::optional<OpenFile> open(std::string_view name) const;
    bool contains(std::string_view name) const { return open(name).has_value(); }

    /// Where a download of a safe name is written, and its temporary name while it arrives.
    boost::filesystem::path path_for(std::string_view name) const;
    boost::filesystem::path partial_path_for(std::string_view name) const;

    const boost::filesystem::path& dir() const { return dir_; }

private:
    boost::filesystem::path dir_;
    std::string canonical_dir_;  ///< with a trailing '/', to test "is inside" by prefix
};

}  // namespace p2p
