// One version of a file's bytes, as the kernel sees it through an open descriptor: device,
// inode, size and modification time (with nanoseconds). A rewrite, a replacement by rename or
// a touch gives another version, so anything cached per version (a digest, a manifest) is
// never served for bytes it was not computed from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace p2p {

struct FileVersion {
    std::uint64_t device = 0, inode = 0, size = 0;
    std::int64_t mtime_sec = 0;
    std::int64_t mtime_nsec = 0;

    /// The version of the file `fd` has open (fstat); nothing if fstat fails.
    static std::optional<FileVersion> of(int fd);

    /// "<dev>-<ino>-<size>-<mtimesec>.<mtimensec>" (decimal): a file name for things kept per
    /// version, and parse_name() its inverse (nothing for any other text).
    std::string name() const;
    static std::optional<FileVersion> parse_name(std::string_view name);

    auto fields() const { return std::tie(device, inode, size, mtime_sec, mtime_nsec); }
    friend bool operator<(const FileVersion& a, const FileVersion& b) { return a.fields() < b.fields(); }
    friend bool operator==(const FileVersion& a, const FileVersion& b) { return a.fields() == b.fields(); }
    friend bool operator!=(const FileVersion& a, const FileVersion& b) { return !(a == b); }
};

}  // namespace p2p
