#include "p2p/util/file_version.hpp"

#include <charconv>
#include <sys/stat.h>

namespace p2p {

std::optional<FileVersion> FileVersion::of(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::nullopt;
    FileVersion v;
    v.device = static_cast<std::uint64_t>(st.st_dev);
    v.inode = static_cast<std::uint64_t>(st.st_ino);
    v.size = static_cast<std::uint64_t>(st.st_size);
    v.mtime_sec = static_cast<std::int64_t>(st.st_mtim.tv_sec);
    v.mtime_nsec = static_cast<std::int64_t>(st.st_mtim.tv_nsec);
    return v;
}

std::string FileVersion::name() const {
    return std::to_string(device) + '-' + std::to_string(inode) + '-' + std::to_string(size) + '-' +
           std::to_string(mtime_sec) + '.' + std::to_string(mtime_nsec);
}

std::optional<FileVersion> FileVersion::parse_name(std::string_view name) {
    FileVersion v;
    const char* p = name.data();
    const char* end = name.data() + name.size();
    // Each field a number followed by its separator; name() is the only spelling accepted.
    auto field = [&](auto& out, char sep) {
        auto r = std::from_chars(p, end, out);
        if (r.ec != std::errc() || r.ptr == p) return false;
        p = r.ptr;
        if (sep == '\0') return p == end;
        if (p == end || *p != sep) return false;
        ++p;
        return true;
    };
    if (!field(v.device, '-') || !field(v.inode, '-') || !field(v.size, '-') ||
        !field(v.mtime_sec, '.') || !field(v.mtime_nsec, '\0'))
        return std::nullopt;
    if (v.name() != name) return std::nullopt;  // no leading zeros, no '+': one name per version
    return v;
}

}  // namespace p2p
