#include "p2p/node/wire_description.hpp"

#include "p2p/lab/protocol.hpp"
#include "p2p/overlay/overlay_protocol.hpp"
#include "p2p/overlay/verdict.hpp"
#include "p2p/trust/network_secret.hpp"

namespace p2p {

std::string describe(std::string_view bytes) {
    std::string_view line = bytes;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    // A capability's describer goes here, next to its session handlers' registration.
    if (auto what = overlay::describe(line)) return *what;
    if (auto what = NetworkSecret::describe(line)) return *what;
    if (auto what = verdict::describe(line)) return *what;
    if (auto what = protocol::describe(bytes)) return *what;  // it reads an answer's '\n' itself
    return "unknown message";
}

}  // namespace p2p
