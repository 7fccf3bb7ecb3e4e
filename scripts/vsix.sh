#!/usr/bin/env bash
# scripts/vsix.sh — pack the Azure Pipelines extension (azure-pipelines/extension)
# into OUT/bosun-azure-pipelines-VERSION.vsix. Called by `make vsix` (mk/vsix.mk).
#
#   BOSUN_BIN    the binary BosunInstall@1 bundles (required; make vsix: dist/bosun-linux-amd64)
#   VSIX_OUT     where the .vsix goes (default dist)
#   VSIX_BUILD   the staging directory (default build/vsix; emptied first)
#   VSIX_VERSION the extension version (default: vss-extension.json's)
#   VSIX_PUBLISHER  the Marketplace publisher id (default: vss-extension.json's)
#   TOOLS_DIR    where tfx-cli is installed from tools/package-lock.json
#                (default ${XDG_CACHE_HOME:-~/.cache}/bosun-npm/tools)
#
# Each task is staged with the shared common/bosun-task.js and its own
# node_modules from `npm ci` against its package-lock.json; tfx-cli comes
# from the npm registry at the version pinned in tools/package-lock.json.
# Prints the path of the .vsix on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
EXT=azure-pipelines/extension
: "${BOSUN_BIN:?set BOSUN_BIN to the bosun binary to bundle}"
OUT=${VSIX_OUT:-dist}
STAGE=${VSIX_BUILD:-build/vsix}
TOOLS_DIR=${TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bosun-npm/tools}
NPM_FLAGS=(--no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error)
manifest() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$EXT/vss-extension.json" "$1"; }
VERSION=${VSIX_VERSION:-$(manifest version)}
PUBLISHER=${VSIX_PUBLISHER:-$(manifest publisher)}
case "$VERSION" in *[!0-9.]* | "" | .* | *.) echo "vsix: VSIX_VERSION must be numbers and dots (Marketplace versions), not '$VERSION'" >&2; exit 2 ;; esac
[ -x "$BOSUN_BIN" ] || { echo "vsix: $BOSUN_BIN is not an executable (make static first, or set VSIX_BOSUN)" >&2; exit 2; }
command -v npm >/dev/null || { echo "vsix: npm is not installed" >&2; exit 2; }

# tfx-cli, once per lock file
mkdir -p "$TOOLS_DIR"
if ! cmp -s "$EXT/tools/package-lock.json" "$TOOLS_DIR/package-lock.json" || [ ! -x "$TOOLS_DIR/node_modules/.bin/tfx" ]; then
	cp "$EXT/tools/package.json" "$EXT/tools/package-lock.json" "$TOOLS_DIR/"
	(cd "$TOOLS_DIR" && npm ci "${NPM_FLAGS[@]}") >&2
fi

case "$STAGE" in "" | / | . | ..) echo "vsix: VSIX_BUILD must be a staging directory of its own, not '$STAGE'" >&2; exit 2 ;; esac
rm -rf "$STAGE"
mkdir -p "$STAGE" "$OUT"
cp "$EXT/vss-extension.json" "$EXT/overview.md" "$STAGE/"
mkdir -p "$STAGE/images" && cp "$EXT/images/icon.png" "$STAGE/images/"
for t in "$EXT"/Bosun*V1; do
	n=$(basename "$t")
	mkdir -p "$STAGE/$n"
	cp "$t/task.json" "$t/icon.png" "$t/index.js" "$t/package.json" "$t/package-lock.json" "$STAGE/$n/"
	cp "$EXT/common/bosun-task.js" "$STAGE/$n/"
	(cd "$STAGE/$n" && npm ci --omit=dev "${NPM_FLAGS[@]}") >&2
done
# the bundled binary, with its SHA-256 and version for BosunInstall@1
mkdir -p "$STAGE/BosunInstallV1/bin"
cp "$BOSUN_BIN" "$STAGE/BosunInstallV1/bin/bosun-linux-amd64"
chmod 0755 "$STAGE/BosunInstallV1/bin/bosun-linux-amd64"
/usr/bin/python3 - "$STAGE/BosunInstallV1/bin" "$("$BOSUN_BIN" version --short)" <<'PY'
import hashlib, json, sys
d, v = sys.argv[1], sys.argv[2]
h = hashlib.sha256(open(d + "/bosun-linux-amd64", "rb").read()).hexdigest()
json.dump({"file": "bosun-linux-amd64", "sha256": h, "version": v}, open(d + "/bundle.json", "w"))
PY

VSIX="$OUT/$(manifest id)-$VERSION.vsix"
rm -f "$VSIX"
"$TOOLS_DIR/node_modules/.bin/tfx" extension create --root "$STAGE" --manifest-globs vss-extension.json \
	--publisher "$PUBLISHER" --override "{\"version\": \"$VERSION\"}" --output-path "$VSIX" --no-prompt --no-color >&2
[ -s "$VSIX" ] || { echo "vsix: tfx wrote no $VSIX" >&2; exit 1; }
echo "$VSIX"
