# Sourced by run_nodes.sh and test/run.sh: installs the Debian packages that are missing.
# ensure_packages PKG...   (apt-get update runs at most once per call, and only when needed)
ensure_packages() {
    local missing=() p log
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing with apt-get: ${missing[*]}" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "Not root and no sudo: install ${missing[*]} first." >&2; return 1; }
        sudo="sudo"
    fi
    log=$(mktemp /tmp/p2p-apt.XXXXXX.log)
    if ! { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
               --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        tail -20 "$log" >&2
        echo "apt-get failed (full log: $log)" >&2
        return 1
    fi
    rm -f "$log"
}

# What building the node needs.
BUILD_PACKAGES=(g++ libboost-tools-dev libboost-thread-dev libboost-chrono-dev libboost-filesystem-dev
                libboost-program-options-dev libboost-test-dev libssl-dev libedit-dev libopendht-dev)
# What the tests need beyond the build: the stock DHT node and OpenDHT's Python client (test_dht).
TEST_PACKAGES=(dhtnode python3-opendht)
