#include "p2p/util/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace p2p {

bool write_atomically(const boost::filesystem::path& file, std::string_view text, unsigned mode,
                      std::string& error, Durability durability) {
    const std::string tmp = file.string() + ".tmp";
    auto fail = [&](const std::string& what) {
        error = what + " " + tmp + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    };
    ::unlink(tmp.c_str());  // a leftover of a crash; O_EXCL below then makes a fresh one
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return fail("cannot create");
    for (std::size_t off = 0; off < text.size();) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            return fail("cannot write");
        }
        off += static_cast<std::size_t>(n);
    }
    if (durability == Durability::durable && ::fsync(fd) != 0) {
        ::close(fd);
        return fail("cannot sync");
    }
    if (::close(fd) != 0) return fail("cannot close");
    if (::rename(tmp.c_str(), file.c_str()) != 0) return fail("cannot rename");
    return true;
}

bool read_lines(const boost::filesystem::path& file, std::vector<std::string>& lines, std::string& error) {
    std::ifstream in(file.string());
    if (!in) {
        if (errno == ENOENT) return true;
        error = "cannot read " + file.string() + ": " + std::strerror(errno);
        return false;
    }
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return true;
}

}  // namespace p2p
