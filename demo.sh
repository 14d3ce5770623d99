#!/usr/bin/env bash
# Duet's entry point: `./demo.sh` runs the stack, `./demo.sh test` checks everything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

MIN_PYTHON="3.11"
MIN_NODE_MAJOR=20
VENV=".venv"
PY_STAMP="$VENV/.duet-stamp"
NODE_STAMP="node_modules/.duet-stamp"
# CometBFT, the consensus engine of the decentralized mode (chain/consensus/cometbft.py finds it).
COMETBFT_VERSION="0.38.26"
# circomspect, the static analyser the tests run over the circuits (tests/circuits/test_analysis.py).
CIRCOMSPECT_VERSION="0.9.0"

# Slow, reproducible outputs (the circuits' keys, the ceremony's helper) live outside the
# repository, so a fresh clone or `git clean` does not make them again.
export DUET_CACHE_DIR="${DUET_CACHE_DIR:-$HOME/.cache/duet}"

usage() {
    cat <<EOF
Usage: ./demo.sh [COMMAND] [ARGS...]

Commands:
  (none)        set up, then run the stack (a dev node in \${DUET_DATA_DIR:-~/.duet/dev})
                and the game with three bots; leaving the game stops the node
  node          set up, then run the dev node alone in the foreground
  testnet       set up, then run a local network of four validators (duet testnet in
                \${DUET_TESTNET_DIR:-~/.duet/testnet}: CometBFT, one shared anvil) and the
                game on validator 1 with three bots; leaving the game stops the network
  setup         install what is missing or changed: .venv, node_modules, build/contracts,
                the circuit keys, CometBFT (the decentralized mode; needs Go),
                circomspect (the circuits' static analysis; needs cargo), the browser
                plugin (build/plugin) and Debian's chromium + chromium-driver for its tests
                (with apt, when run as root)
  plugin        set up, then say where the browser plugin is and how to load it
  test [ARGS]   set up, then ruff, mypy and pytest; ARGS go to pytest
                (--slow adds the long drills and soaks)
  help, -h      show this help

Environment:
  DUET_DATA_DIR   node data directory (default: ~/.duet/dev)
  DUET_CACHE_DIR  cache for heavy build outputs (default: ~/.cache/duet)
  DUET_CEREMONY   how setup makes the circuit keys: native (default; needs cargo)
                  or snarkjs (about 36 minutes); the same keys either way
  DUET_COMETBFT   a cometbft v$COMETBFT_VERSION binary to use instead of the one setup builds
  DUET_KEYS_DIR   a finalized \`duet ceremony\` directory: its circuit keys replace the
                  development keys (docs/ceremony.md)
EOF
}

step() { printf '==> %s\n' "$*"; }
die() {
    printf 'demo.sh: %s\n' "$*" >&2
    exit 1
}

hash_of() { sha256sum "$@" | cut -d' ' -f1; }

check_requirements() {
    command -v python3 >/dev/null || die "python3 not found; Duet needs Python $MIN_PYTHON or newer"
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "Python $MIN_PYTHON or newer is needed; python3 is $(python3 -V 2>&1)"
    command -v node >/dev/null || die "node not found; Duet needs Node.js $MIN_NODE_MAJOR or newer"
    command -v npm >/dev/null || die "npm not found; it comes with Node.js $MIN_NODE_MAJOR or newer"
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    ((major >= MIN_NODE_MAJOR)) || die "Node.js $MIN_NODE_MAJOR or newer is needed; node is $(node --version)"
}

setup_python() {
    if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        step "creating $VENV"
        python3 -m venv --clear "$VENV"
    fi
    # An editable install maps each top-level package to its folder when it runs, so a package
    # folder that appears later must trigger a reinstall just as a changed pyproject.toml does.
    local stamp package
    stamp="$(hash_of pyproject.toml)"
    for package in chain game; do
        if [[ -f "$package/__init__.py" ]]; then stamp+=" $package"; fi
    done
    if [[ "$(cat "$PY_STAMP" 2>/dev/null)" == "$stamp" ]]; then
        step "Python packages up to date ($VENV)"
        return
    fi
    step "installing Python packages into $VENV"
    rm -f "$PY_STAMP"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
    printf '%s\n' "$stamp" >"$PY_STAMP"
}

setup_node() {
    local stamp
    stamp="$(hash_of package-lock.json)"
    if [[ "$(cat "$NODE_STAMP" 2>/dev/null)" == "$stamp" ]]; then
        step "Node packages up to date (node_modules)"
        return
    fi
    step "installing Node packages into node_modules"
    npm ci --no-audit --no-fund --loglevel=error
    printf '%s\n' "$stamp" >"$NODE_STAMP"
}

cometbft_unavailable() {
    printf '==> CometBFT: %s; the decentralized mode is unavailable (dev mode works as usual)\n' "$*"
}

setup_cometbft() {
    # Built from the Go module proxy into the cache, like the circuit keys: a fresh clone or
    # `git clean` does not build it again. Without Go, or if the build fails, set-up goes on.
    local dir="$DUET_CACHE_DIR/cometbft-v$COMETBFT_VERSION" log
    if [[ "$("$dir/bin/cometbft" version 2>/dev/null)" == "$COMETBFT_VERSION" ]]; then
        step "CometBFT v$COMETBFT_VERSION up to date ($dir/bin/cometbft)"
        return
    fi
    if ! command -v go >/dev/null; then
        cometbft_unavailable "go not found (Go 1.22 or newer builds it)"
        return
    fi
    step "building CometBFT v$COMETBFT_VERSION (about 3-4 minutes, once; log: $dir/build.log)"
    mkdir -p "$dir"
    log="$dir/build.log"
    # Into a scratch bin first, so that an interrupted build never leaves a binary behind.
    rm -rf "$dir/bin.partial"
    if (cd / && GOBIN="$dir/bin.partial" go install \
        "github.com/cometbft/cometbft/cmd/cometbft@v$COMETBFT_VERSION") >"$log" 2>&1; then
        rm -rf "$dir/bin"
        mv "$dir/bin.partial" "$dir/bin"
        step "CometBFT v$COMETBFT_VERSION built ($dir/bin/cometbft)"
    else
        rm -rf "$dir/bin.partial"
        tail -n 5 "$log" | sed 's/^/    /'
        cometbft_unavailable "go install failed (its output: $log)"
    fi
}

setup_circomspect() {
    # Built with cargo from crates.io into the cache, like CometBFT. Without cargo, or if the
    # build fails, set-up goes on and the analysis test says why it is skipped.
    local dir="$DUET_CACHE_DIR/circomspect-v$CIRCOMSPECT_VERSION" log
    # It prints no version: a stamp written after the build says which one it is.
    if [[ -x "$dir/bin/circomspect" && "$(cat "$dir/version" 2>/dev/null)" == "$CIRCOMSPECT_VERSION" ]]; then
        step "circomspect v$CIRCOMSPECT_VERSION up to date ($dir/bin/circomspect)"
        return
    fi
    if ! command -v cargo >/dev/null; then
        step "circomspect: cargo not found; the circuits' static analysis is skipped"
        return
    fi
    step "building circomspect v$CIRCOMSPECT_VERSION (about 7 minutes, once; log: $dir/build.log)"
    mkdir -p "$dir"
    log="$dir/build.log"
    rm -rf "$dir/partial"
    if cargo install circomspect --version "$CIRCOMSPECT_VERSION" --locked \
        --root "$dir/partial" >"$log" 2>&1; then
        rm -rf "$dir/bin"
        mv "$dir/partial/bin" "$dir/bin"
        rm -rf "$dir/partial"
        printf '%s\n' "$CIRCOMSPECT_VERSION" >"$dir/version"
        step "circomspect v$CIRCOMSPECT_VERSION built ($dir/bin/circomspect)"
    else
        rm -rf "$dir/partial"
        tail -n 5 "$log" | sed 's/^/    /'
        step "circomspect: cargo install failed (its output: $log); the analysis test is skipped"
    fi
}

setup_chromium() {
    # Debian's Chromium and its driver run the browser plugin's tests (tests/plugin). Root
    # installs them with apt; anyone else is told how, and those tests are skipped.
    if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
        step "Chromium for the plugin's tests up to date (/usr/bin/chromium)"
        return
    fi
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        step "Chromium: not installed, and set-up installs it only as root with apt; the browser tests are skipped (sudo apt-get install chromium chromium-driver)"
        return
    fi
    step "installing Debian's chromium and chromium-driver (the browser plugin's tests)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; then
        apt-get update -q >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 ||
            step "Chromium: apt-get install failed; the browser tests are skipped"
    fi
}

setup_plugin() {
    # esbuild bundles it into build/plugin; a build whose sources did not change is skipped.
    local out
    out="$(node plugin/build.mjs)" || die "the browser plugin's build failed (node plugin/build.mjs)"
    step "browser plugin built in $out"
}

show_plugin() {
    cat <<EOF
==> The browser plugin is built in $PWD/build/plugin
    To load it: open chrome://extensions in Chrome or Chromium, switch on "Developer mode",
    click "Load unpacked" and choose that folder. Then, in its Settings (the options page),
    set the node's ZK endpoint (a dev node's is http://127.0.0.1:8646/) and generate or import
    a key; send that address some ZKPoW for heartbeat fees, and switch the plugin on in its
    popup. docs/market.md, "The browser plugin", says more.
EOF
}

setup() {
    check_requirements
    mkdir -p "$DUET_CACHE_DIR"
    setup_python
    setup_node
    step "compiling contracts"
    node scripts/compile_contracts.mjs
    step "circuit keys: development ceremony, cached in $DUET_CACHE_DIR"
    "$VENV/bin/python" -m chain.prover setup
    setup_cometbft
    setup_circomspect
    setup_plugin
    setup_chromium
}

run_tests() {
    step "ruff check"
    "$VENV/bin/ruff" check .
    step "ruff format --check"
    "$VENV/bin/ruff" format --check .
    step "mypy"
    "$VENV/bin/mypy"
    step "lint-imports (the layers of docs/architecture.md)"
    "$VENV/bin/lint-imports" --no-cache
    step "pytest"
    local rc=0
    "$VENV/bin/pytest" -n auto --timeout 600 "$@" || rc=$?
    # pytest exits 5 when it collected nothing: a typo in a test path must not pass as green.
    if ((rc == 5)); then
        die "pytest collected no tests (pytest arguments: ${*:-none}); that is a failure, not a pass"
    fi
    return "$rc"
}

NODE_PID=""
NODE_NAME="the dev node"

stop_node() {
    if [[ -n "$NODE_PID" ]] && kill -0 "$NODE_PID" 2>/dev/null; then
        step "stopping $NODE_NAME"
        kill -TERM "$NODE_PID" 2>/dev/null || true
        wait "$NODE_PID" 2>/dev/null || true
    fi
    NODE_PID=""
}

wait_for_node() {
    local data_dir="$1" log="$2" tries
    for ((tries = 0; tries < 240; tries++)); do
        kill -0 "$NODE_PID" 2>/dev/null || die "the dev node exited; its log: $log"
        if "$VENV/bin/duet" status --data-dir "$data_dir" >/dev/null 2>&1; then return; fi
        sleep 0.5
    done
    die "the dev node did not come up in 2 minutes; its log: $log"
}

run_node() {
    # The node alone, in the foreground: Ctrl+C stops it.
    exec "$VENV/bin/duet" node --dev --data-dir "${DUET_DATA_DIR:-$HOME/.duet/dev}"
}

run_stack() {
    # The node in the background (its log in the data directory), then the game in this
    # terminal with three bots; leaving the game (q or Ctrl+C) stops the node.
    local data_dir="${DUET_DATA_DIR:-$HOME/.duet/dev}" log
    mkdir -p "$data_dir"
    log="$data_dir/node.log"
    step "starting the dev node: both chains, the embedded prover, anvil and its agent (log: $log)"
    "$VENV/bin/duet" node --dev --data-dir "$data_dir" >>"$log" 2>&1 &
    NODE_PID=$!
    trap stop_node EXIT
    trap 'exit 130' INT TERM HUP
    wait_for_node "$data_dir" "$log"
    step "opening the game as dev account 1 with 3 bots; a second player: .venv/bin/duet play"
    "$VENV/bin/duet" play --dev-account 1 --bots 3 --data-dir "$data_dir"
}

run_testnet() {
    # The network in the background (its log in its directory), then the game on validator
    # 1 with three bots; leaving the game (q or Ctrl+C) stops the network.
    local dir="${DUET_TESTNET_DIR:-$HOME/.duet/testnet}" log seen port tries
    log="${dir%/}.log" # beside the network's directory, which duet testnet makes
    mkdir -p "$(dirname "$log")"
    touch "$log"
    seen="$(wc -l <"$log")"
    step "starting four validators: CometBFT, both chains, one shared anvil and its rollup (log: $log)"
    "$VENV/bin/duet" testnet --validators 4 --dir "$dir" >>"$log" 2>&1 &
    NODE_PID=$!
    NODE_NAME="the testnet"
    trap stop_node EXIT
    trap 'exit 130' INT TERM HUP
    for ((tries = 0; ; tries++)); do
        kill -0 "$NODE_PID" 2>/dev/null || die "the testnet exited: $(tail -n +"$((seen + 1))" "$log" | tail -5)"
        if tail -n +"$((seen + 1))" "$log" | grep -q "Ctrl-C stops the network"; then break; fi
        ((tries < 360)) || die "the testnet did not come up in 3 minutes; its log: $log"
        sleep 0.5
    done
    port="$("$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["ports"][1][0])' "$dir/testnet.json")"
    step "opening the game on validator 1 as dev account 1 with 3 bots; a second player: .venv/bin/duet play --rpc http://127.0.0.1:$port/"
    "$VENV/bin/duet" play --dev-account 1 --bots 3 --rpc "http://127.0.0.1:$port/"
}

main() {
    local command="${1-}"
    if (($# > 0)); then shift; fi
    case "$command" in
    "")
        setup
        run_stack
        ;;
    node)
        (($# == 0)) || die "node takes no arguments (got: $*)"
        setup
        run_node
        ;;
    testnet)
        (($# == 0)) || die "testnet takes no arguments (got: $*)"
        setup
        run_testnet
        ;;
    setup)
        (($# == 0)) || die "setup takes no arguments (got: $*)"
        setup
        ;;
    plugin)
        (($# == 0)) || die "plugin takes no arguments (got: $*)"
        setup
        show_plugin
        ;;
    test)
        setup
        run_tests "$@"
        ;;
    help | -h | --help)
        usage
        ;;
    *)
        printf 'demo.sh: unknown command: %s\n\n' "$command" >&2
        usage >&2
        exit 2
        ;;
    esac
}

# Sourced (a test calls one step's function), define the functions and run nothing.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
