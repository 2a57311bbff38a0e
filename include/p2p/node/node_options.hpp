// The command line of p2p-node into a NodeConfig (Boost.Program_options): every flag checked,
// the port asked for when missing, the shared and state folders made, the identity loaded.
#pragma once

#include "p2p/node/node_config.hpp"

#include <optional>
#include <string>

namespace p2p {

struct ParsedOptions {
    /// Set: the program ends with this code (0 after --help or --new-secret; 2 for a bad flag,
    /// 1 for a file or folder it cannot use), the reason already printed.
    std::optional<int> exit_code;
    NodeConfig config;
    bool quiet = false;       ///< --quiet: no server lines
    bool verbose = false;     ///< --verbose: detail lines on the console too (output.hpp)
    std::string state_note;   ///< to print once the console is up (a state folder not used)

    /// Prints "p2p-node: <message>" and the --help hint; exit code 2.
    ParsedOptions& fail(const std::string& message);
    ParsedOptions& exit(int code);
};

/// Parses argv. Reads the port from stdin (fd 0, byte by byte) when --port is missing.
ParsedOptions parse_options(int argc, char* argv[]);

}  // namespace p2p
