# shellcheck shell=bash
# tests/lib/sigstore.sh — sigstore-js, the independent verifier of the
# Sigstore bundles bosun writes (a peer used as an oracle, never part of
# bosun). @sigstore/verify and @sigstore/bundle are installed once, at
# pinned versions, from the npm registry into their own folder of
# ~/.cache/bosun-test (BOSUN_TEST_CACHE overrides).
#
#   sigstore_js_dir   prints the folder holding node_modules/@sigstore, or
#                     fails with a reason on stdout (no node, no network)
#   sigstore_verify BUNDLE PUB [DIGEST]   runs tests/lib/sigstore_verify.js

# 3.1.x is the newest line that runs on Debian bookworm's/trixie's node 20.
SIGSTORE_VERIFY_VERSION=3.1.1
SIGSTORE_BUNDLE_VERSION=4.0.0

sigstore_js_dir() {
    local d="${BOSUN_TEST_CACHE:-$HOME/.cache/bosun-test}/sigstore-js-$SIGSTORE_VERIFY_VERSION"
    if [ -f "$d/node_modules/@sigstore/verify/package.json" ] &&
       [ -f "$d/node_modules/@sigstore/bundle/package.json" ]; then echo "$d"; return 0; fi
    if ! command -v node >/dev/null; then echo "node is not installed"; return 1; fi
    if ! command -v npm >/dev/null; then echo "npm is not installed"; return 1; fi
    mkdir -p "$d"
    [ -f "$d/package.json" ] || echo '{"name":"bosun-test-sigstore","private":true}' >"$d/package.json"
    if ! (cd "$d" && timeout 300 npm install --prefix "$d" --no-audit --no-fund --ignore-scripts \
        "@sigstore/verify@$SIGSTORE_VERIFY_VERSION" "@sigstore/bundle@$SIGSTORE_BUNDLE_VERSION" \
        >"$d/npm.log" 2>&1); then
        echo "npm install @sigstore/verify@$SIGSTORE_VERIFY_VERSION failed: $(tail -1 "$d/npm.log")"; return 1
    fi
    echo "$d"
}

sigstore_verify() {
    NODE_PATH="$SIGSTORE_JS/node_modules" node "$TESTLIB/sigstore_verify.js" "$@"
}

# referrers_proxy_start HOST:PORT: a registry with the referrers API in front
# of the docker-registry at HOST:PORT (tests/lib/referrers_proxy.py); exports
# PROXY (host:port) and PROXY_PID. Fails when it does not come up.
referrers_proxy_start() {
    local port dir
    port="$(free_port)"
    dir="$(tmpdir_new refproxy)"
    "$PYTHON" "$TESTLIB/referrers_proxy.py" --listen "$port" --upstream "$1" >"$dir/stderr.log" 2>&1 &
    PROXY_PID=$!
    at_exit "kill_wait $PROXY_PID"
    wait_port "$port" 10 || { cat "$dir/stderr.log" >&2; return 1; }
    PROXY="127.0.0.1:$port"
    export PROXY PROXY_PID
}
