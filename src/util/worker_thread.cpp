#include "p2p/util/worker_thread.hpp"

#include <cstdio>
#include <pthread.h>

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
    char name[16];  // the kernel keeps 15 bytes; no allocation, nothing to throw here
    std::snprintf(name, sizeof name, "p2p:%s", role);
    ::pthread_setname_np(::pthread_self(), name);
}

}  // namespace p2p
