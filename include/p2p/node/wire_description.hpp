// What a wire message means, for --trace: each protocol describes its own lines (the lab's,
// the overlay's, the network secret's); this asks them in turn. Pure, tested without sockets.
#pragma once

#include <string>
#include <string_view>

namespace p2p {

/// A request, an answer, an overlay line, a proof; "unknown message" otherwise.
std::string describe(std::string_view message);

}  // namespace p2p
