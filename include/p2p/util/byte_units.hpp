// Byte counts for people: binary units (KiB = 1024 bytes), as the progress bar and the rate
// limits print them.
#pragma once

#include <string>

namespace p2p {

/// "512 B", "1.5 KiB", "20.0 MiB": one decimal from KiB up, at most TiB.
std::string format_bytes(double bytes);

}  // namespace p2p
