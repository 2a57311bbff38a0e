// Files of the node's own (known peers, pins, identity, a topology) are written whole or not at
// all: a temporary file beside the target, fsync, rename. A crash or a full disk leaves the old
// file or the new one, never half of one.
#pragma once

#include <boost/filesystem/path.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace p2p {

/// Whether the new content must survive a crash once write_atomically returns.
enum class Durability {
    durable,  ///< fsync before the rename: the node's own records
    /// No fsync: readers still see the old file or the new one, but a crash may leave either
    /// (or, on some file systems, an empty one). For a file that is only a hint checked on
    /// reading (a download's chunk bitmap), where an fsync a second would force the file
    /// system to commit, and the disk to flush, in the middle of the download it describes.
    hint,
};

/// Replaces `file` with `text`, created with `mode` (e.g. 0600 for a key). False, with what
/// failed and why in `error`, and no temporary file left behind.
bool write_atomically(const boost::filesystem::path& file, std::string_view text, unsigned mode,
                      std::string& error, Durability durability = Durability::durable);

/// The lines of `file` (none when it does not exist). False, with why in `error`, when it
/// exists but cannot be read.
bool read_lines(const boost::filesystem::path& file, std::vector<std::string>& lines, std::string& error);

}  // namespace p2p
