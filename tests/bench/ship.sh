#!/usr/bin/env bash
# bosun ship against the same pipeline done by hand with separate bosun
# commands (build --push, scan with the reports, sign, three attests; the
# provenance predicate there is a stand-in file, only the cost counts), on
# examples/app over a busybox base in a local registry. Prints medians and
# the ratio: what one step costs or saves next to the hand-wired sequence.
set -euo pipefail
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

RUNS=${BENCH_RUNS:-5}
W=$(tmpdir_new bench-ship)
cp "$BOSUN" "$W/bosun"
B="$W/bosun"
registry_start_open
make_busybox_oci "$W/base" 1 >/dev/null
"$B" copy -q "oci:$W/base:1" "$REG/base/busybox:1" >/dev/null
mkdir -p "$W/osv"
"$B" db build --osv "$SHARED/data/vulndata/osv-go-all.zip" -o "$W/vuln.db" >/dev/null 2>&1
export COSIGN_PASSWORD=bench
"$B" keygen -q --output-key-prefix "$W/k" >/dev/null 2>&1
APP="$REPO/examples/app"
ARGS="--build-arg BASE=$REG/base/busybox:1 --build-arg VERSION=1.0"
cat >"$W/by-hand.sh" <<SH
set -e
cd "$W"
d=\$("$B" -q build $ARGS -t $REG/bench/hand:1 --push "$APP")
"$B" -q scan --db vuln.db --fail-on high --format junit -o hand-junit.xml --format sarif -o hand.sarif \
    --format cyclonedx -o hand.cdx.json --format json -o hand.json "$REG/bench/hand:1@\$d"
"$B" -q sign --key k.key "$REG/bench/hand:1@\$d" >/dev/null
"$B" -q attest --key k.key --type cyclonedx --predicate hand.cdx.json "$REG/bench/hand:1@\$d" >/dev/null
"$B" -q attest --key k.key --type vuln --predicate hand.json "$REG/bench/hand:1@\$d" >/dev/null
"$B" -q attest --key k.key --type slsaprovenance --predicate hand.json "$REG/bench/hand:1@\$d" >/dev/null
SH
hyperfine --runs "$RUNS" --warmup 1 --export-json "$W/ship.json" \
	-n "bosun ship" "$B -q ship $ARGS -t $REG/bench/ship:1 --db $W/vuln.db --key $W/k.key --attest --report-dir $W/rep $APP" \
	-n "separate commands" "bash $W/by-hand.sh"
"$PYTHON" - "$W/ship.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
s, h = r["bosun ship"], r["separate commands"]
print("bosun ship %.3f s, separate commands %.3f s, ratio ship/separate = %.2f" % (s, h, s / h))
PY
