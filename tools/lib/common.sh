# Shared by tools/run and tools/test: install what is missing, configure and build once (ccache),
# fetch the default model. Each failure prints one line saying what is missing and how to fix it.
set -euo pipefail

V4_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
V4_BUILD_DIR=${V4_BUILD_DIR:-$V4_ROOT/build}

# Debian packages the build, the app and the tests need.
V4_DEBIAN_PACKAGES=(
    cmake ninja-build g++ ccache pkg-config python3 python3-pip python3-venv
    qt6-base-dev qt6-httpserver-dev qt6-svg-dev qtkeychain-qt6-dev libgl-dev
    libspdlog-dev libpcre2-dev libsqlite3-dev
    xvfb xauth
    dpkg-dev file lintian desktop-file-utils appstream
)

v4_die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

v4_install_packages() {
    local missing=()
    for pkg in "${V4_DEBIAN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        v4_die "missing Debian packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}"
    fi
    echo "Installing Debian packages: ${missing[*]}"
    local log
    log=$(mktemp)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        tail -n 3 "$log" >&2
        v4_die "could not install ${missing[*]} with apt-get (see above); check the network and /etc/apt/sources.list, then run again"
    fi
    rm -f "$log"
}

# Configure once; reconfigure only when CMake asks for it. A failed configure removes the build
# folder so the next run starts clean instead of tripping over a half-written cache.
v4_configure_and_build() {
    export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
    export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
    # CI builds a fresh clone in a new folder each time: make cached objects independent of it.
    export CCACHE_BASEDIR=$V4_ROOT CCACHE_NOHASHDIR=true
    if [ ! -f "$V4_BUILD_DIR/build.ninja" ]; then
        if ! cmake -S "$V4_ROOT" -B "$V4_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
                -DV4_PYTHON="${V4_PYTHON:-python3}" >"$V4_ROOT/.configure.log" 2>&1; then
            rm -rf "$V4_BUILD_DIR"
            grep -m 3 -A 4 "CMake Error" "$V4_ROOT/.configure.log" >&2 || tail -n 5 "$V4_ROOT/.configure.log" >&2
            v4_die "CMake could not configure the build (full log: .configure.log)"
        fi
        rm -f "$V4_ROOT/.configure.log"
    fi
    cmake --build "$V4_BUILD_DIR" -j "$(nproc)" || v4_die "the build failed (see the compiler output above)"
}

# A private Python environment for the tests that use PyPI clients (the official `openai`
# package talks to `v4 serve`). Created once; the tests find it through V4_PYTHON.
V4_VENV=${V4_VENV:-$V4_ROOT/.venv}
v4_python_env() {
    if [ ! -x "$V4_VENV/bin/python" ]; then
        python3 -m venv "$V4_VENV" >/dev/null 2>&1 || { rm -rf "$V4_VENV"; v4_die "could not create a Python venv in $V4_VENV (Debian: apt-get install python3-venv)"; }
    fi
    if ! "$V4_VENV/bin/python" -c "import openai" 2>/dev/null; then
        "$V4_VENV/bin/python" -m pip install --quiet --disable-pip-version-check openai >/dev/null 2>&1 \
            || v4_die "could not install the Python package 'openai' from PyPI into $V4_VENV; check the network"
    fi
    export V4_PYTHON="$V4_VENV/bin/python"
}

v4_fetch_default_model() {
    "$V4_ROOT/tools/fetch-model"
}

v4_have_display() {
    [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]
}
