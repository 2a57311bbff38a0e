#include "p2p/worker_thread.hpp"

#include <algorithm>
#include <pthread.h>
#include <string>

namespace p2p {

SignalBlock::SignalBlock() {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &block, &saved_);
}

SignalBlock::~SignalBlock() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

void name_this_thread(const char* role) {
    std::string name = std::string("p2p:") + role;
    name.resize(std::min<std::size_t>(name.size(), 15));  // the kernel keeps 15 bytes
    ::pthread_setname_np(::pthread_self(), name.c_str());
}

}  // namespace p2p
