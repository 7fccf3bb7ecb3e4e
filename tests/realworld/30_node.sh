#!/usr/bin/env bash
# Real-world image "node" (tests/realworld/images/node/Dockerfile): built by
# bosun and by buildah, file trees compared; inventory of bosun scan against
# Trivy and dpkg-query. See tests/realworld/lib.sh.
set -u
. "$(dirname "$0")/lib.sh"
rw_setup
# The npm tree: a lock file resolved now from the npm registry, so the two
# builds install the same versions with `npm ci`.
ctx=$(tmpdir_new node-ctx)
cp "$RW_DIR/images/node/Dockerfile" "$ctx/"
cat >"$ctx/package.json" <<'JSON'
{"name": "bosun-rw-node", "version": "1.0.0", "private": true,
 "dependencies": {"express": "4.21.2", "lodash": "4.17.21", "@sindresorhus/is": "4.6.0", "yaml": "2.6.1"}}
JSON
if (cd "$ctx" && timeout 300 npm install --package-lock-only --no-audit --no-fund --ignore-scripts) >"$ctx/npm.log" 2>&1; then
    ok "node: package-lock.json resolved from the npm registry"
else
    fail "node: npm install --package-lock-only" "$(tail -n 5 "$ctx/npm.log")"; finish
fi
rm -f "$ctx/npm.log"
rw_image node "$ctx"
TAB=$'\t'
rw_tree_has node "the npm tree" "^srv/app/node_modules/express/package\.json${TAB}file"
rw_tree_has node "a scoped npm package" "^srv/app/node_modules/@sindresorhus/is/package\.json${TAB}file"
rw_tree_has node "npm from the npm registry" "^usr/local/lib/node_modules/npm/package\.json${TAB}file"
finish
