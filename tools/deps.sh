# Sourced by run_nodes.sh and test/run.sh: installs the Debian packages that are missing.
# ensure_packages PKG...   (apt-get update runs at most once per call, and only when needed)
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2 || return 1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# What building the node needs.
BUILD_PACKAGES=(g++ libboost-tools-dev libboost-thread-dev libboost-filesystem-dev
                libboost-program-options-dev libboost-test-dev libssl-dev)
