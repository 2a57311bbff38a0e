// The serving side of the swarm on an accepted connection: XMAN and XGET (swarm_protocol.hpp),
// answered by swarm_server.hpp, written by the session's thread.
#pragma once

#include "p2p/lab/file_index.hpp"
#include "p2p/lab/session_hooks.hpp"
#include "p2p/net/rate_limit.hpp"

namespace p2p {

class Indexer;

/// Registers XMAN and XGET on `hooks`. `indexer` may be null (every XMAN is "not ready");
/// `upload` (may be null) is paid for every chunk byte sent.
void add_swarm_lines(SessionHooks& hooks, const FileIndex& index, const Indexer* indexer, RateLimit* upload);

}  // namespace p2p
