// Which chunks of a download are verified, kept in the state folder beside nothing the node
// serves (<state>/downloads/<name>.chunks), so a later `get` resumes. A hint, not a promise: the
// chunks it names are hashed again before they are kept (a crash may have lost their bytes).
//
//   p2p-node chunks 1
//   <root-hex> <chunk count>
//   <the bits as hex, chunk 0 in the high bit of the first byte>
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p2p {

std::string format_chunk_bitmap(std::string_view root_hex, const std::vector<bool>& have);
/// The bits, when `text` is a bitmap of this root and count; nothing otherwise.
std::optional<std::vector<bool>> parse_chunk_bitmap(std::string_view text, std::string_view root_hex,
                                                    std::size_t count);

}  // namespace p2p
