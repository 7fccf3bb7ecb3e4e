#!/usr/bin/env bash
# bosun scan against Trivy's SBOM pass (its inventory, no vulnerability
# database), side by side in one run, on the same docker archives:
#  (a) the debootstrap'd bookworm minbase image (one layer);
#  (b) a real-world image bosun builds from it with apt-get (ca-certificates,
#      curl, python3 with requests and yaml: two layers), built once and
#      cached in ~/.cache/bosun-test.
# Cold: a fresh cache for both tools on every run (bosun --no-cache, Trivy a
# new --cache-dir). Warm: both keep their layer caches between runs.
# Prints medians (hyperfine), peak memory (/usr/bin/time) and the ratios
# against the targets: cold <= 0.3x Trivy's time and <= 0.15x its peak
# memory; cold <= 1.15x the zcat time of the slowest layer when there are
# no more layers than cores.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/scan_rootfs.sh"
source "$(dirname "$0")/../lib/trivy.sh"

RUNS=${BENCH_RUNS:-5}
W=$(tmpdir_new bench-trivy)
cp "$BOSUN" "$W/bosun"; B="$W/bosun"
export XDG_CACHE_HOME="$W/xdg"
TRIVY=$(trivy_bin) || { echo "trivy: $TRIVY" >&2; exit 1; }

IMG=$(rootfs_bookworm_oci)
RW="$_RFS_CACHE/bench-realworld-oci"
if [ ! -f "$RW/index.json" ] || [ "$RW/index.json" -ot "$IMG/index.json" ]; then
    echo "# building the real-world image once (apt-get against the Debian archive)"
    mkdir -p "$W/ctx"
    cat >"$W/ctx/Dockerfile" <<EOF
FROM oci:$IMG:12
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
    ca-certificates curl python3 python3-requests python3-yaml && rm -rf /var/lib/apt/lists/*
EOF
    rm -rf "$RW.tmp"
    "$B" -q build --output "oci:$RW.tmp:1" "$W/ctx" >"$W/build.log" 2>&1 || { tail -20 "$W/build.log" >&2; exit 1; }
    rm -rf "$RW"; mv "$RW.tmp" "$RW"
fi
"$B" db build --osv "$SHARED/data/vulndata/osv-go-all.zip" -o "$W/db.sqlite" >/dev/null
"$B" -q copy "oci:$IMG:12" "docker-archive:$W/a.tar" >/dev/null
"$B" -q copy "oci:$RW:1" "docker-archive:$W/b.tar" >/dev/null

peak() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'; }
median() { "$PYTHON" -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$@"; }
layers() { "$PYTHON" - "$1" <<'PY'
import json, os, sys
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
m = json.load(open(os.path.join(d, "blobs", "sha256", idx["manifests"][0]["digest"][7:])))
print("\n".join(os.path.join(d, "blobs", "sha256", l["digest"][7:]) for l in m["layers"]))
PY
}

ncpu=$(nproc)
report() {
    local name=$1 tar=$2 layout=$3 slowest=0 l t n=0
    BS="$B -q scan --db $W/db.sqlite --db-max-age 0 --format json -o /dev/null"
    TS="$TRIVY image --input $tar --format cyclonedx --offline-scan --skip-db-update -q -o /dev/null"
    hyperfine --runs "$RUNS" --export-json "$W/$name-cold.json" \
        -n "bosun cold" "$BS --no-cache docker-archive:$tar" \
        -n "trivy cold" "rm -rf $W/tc; $TS --cache-dir $W/tc" >/dev/null
    $BS --cache-dir "$W/bc" "docker-archive:$tar" >/dev/null 2>&1
    $TS --cache-dir "$W/tw" >/dev/null 2>&1
    hyperfine --runs "$RUNS" --export-json "$W/$name-warm.json" \
        -n "bosun warm" "$BS --cache-dir $W/bc docker-archive:$tar" \
        -n "trivy warm" "$TS --cache-dir $W/tw" >/dev/null
    local bc tc bw tw bm tm
    bc=$(median "$W/$name-cold.json" 0); tc=$(median "$W/$name-cold.json" 1)
    bw=$(median "$W/$name-warm.json" 0); tw=$(median "$W/$name-warm.json" 1)
    bm=$(peak $BS --no-cache "docker-archive:$tar"); rm -rf "$W/tc"; tm=$(peak $TS --cache-dir "$W/tc")
    for l in $(layers "$layout"); do
        n=$((n + 1))
        t=$( { /usr/bin/time -f '%e' zcat "$l" >/dev/null; } 2>&1 | tail -1)
        slowest=$("$PYTHON" -c "print(max($slowest, $t))")
    done
    "$PYTHON" - "$name" "$bc" "$tc" "$bw" "$tw" "$bm" "$tm" "$slowest" "$n" "$ncpu" <<'PY'
import sys
name, bc, tc, bw, tw, bm, tm, z, n, cpu = sys.argv[1], *map(float, sys.argv[2:8]), float(sys.argv[8]), int(sys.argv[9]), int(sys.argv[10])
print(f"\n{name}: {n} layer(s)")
print(f"  {'':14}{'bosun':>10}{'trivy':>10}{'ratio':>8}  target")
print(f"  {'cold time':14}{bc:>9.3f}s{tc:>9.3f}s{bc/tc:>8.2f}  <= 0.30")
print(f"  {'warm time':14}{bw:>9.3f}s{tw:>9.3f}s{bw/tw:>8.2f}")
print(f"  {'peak memory':14}{bm:>8.0f}MB{tm:>8.0f}MB{bm/tm:>8.2f}  <= 0.15")
if n <= cpu:
    print(f"  cold against zcat of the slowest layer ({z:.2f}s): {bc/z:.2f}  <= 1.15")
PY
}

echo "bosun $("$B" version --short 2>/dev/null || echo dev), trivy (cdxgen plugin build), $ncpu cores, $RUNS runs each"
report "(a) bookworm minbase" "$W/a.tar" "$IMG"
report "(b) minbase + ca-certificates, curl, python3-requests, python3-yaml" "$W/b.tar" "$RW"
