#include "p2p/lab/file_index.hpp"

#include "p2p/lab/protocol.hpp"

#include <boost/filesystem/operations.hpp>

#include <climits>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace p2p {

OpenFile::~OpenFile() {
    if (fd_ >= 0) ::close(fd_);
}

FileIndex::FileIndex(const boost::filesystem::path& dir)
    : dir_(dir), canonical_dir_(boost::filesystem::canonical(dir).string()) {
    if (canonical_dir_.empty() || canonical_dir_.back() != '/') canonical_dir_ += '/';
}

bool FileIndex::is_safe_name(std::string_view name) {
    if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
    if (name == protocol::extension_probe) return false;  // reserved for the capability probe
    for (char ch : name) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') return false;
    }
    return !(name.size() >= partial_suffix.size() &&
             name.substr(name.size() - partial_suffix.size()) == partial_suffix);
}

std::optional<OpenFile> FileIndex::open(std::string_view name) const {
    if (!is_safe_name(name)) return std::nullopt;
    const std::string path = (dir_ / std::string(name)).string();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // O_NONBLOCK: a FIFO must not hang us
    if (fd < 0) return std::nullopt;
    OpenFile guard(fd, 0);  // closes fd on every early return
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    // Where the descriptor really points, links resolved: checked after open, so a link
    // swapped in between cannot make us serve a file outside the folder.
    char real[PATH_MAX];
    const std::string proc = "/proc/self/fd/" + std::to_string(fd);
    ssize_t n = ::readlink(proc.c_str(), real, sizeof real - 1);
    if (n <= 0) return std::nullopt;
    std::string_view resolved(real, static_cast<std::size_t>(n));
    if (resolved.substr(0, canonical_dir_.size()) != canonical_dir_) return std::nullopt;
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return OpenFile(guard.release(), static_cast<std::uint64_t>(st.st_size));
}

boost::filesystem::path FileIndex::path_for(std::string_view name) const {
    return dir_ / std::string(name);
}

boost::filesystem::path FileIndex::partial_path_for(std::string_view name) const {
    return dir_ / (std::string(name) + std::string(partial_suffix));
}

}  // namespace p2p
