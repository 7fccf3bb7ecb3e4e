#!/usr/bin/env bash
# Benchmark: one two-platform build (bosun build --platform
# linux/amd64,linux/arm64 --push, one index) against two single-platform
# builds (--platform linux/amd64, then linux/arm64, each pushed), into the
# same local registry, on a base index made from Debian's busybox-static for
# amd64 and arm64 (tests/lib/debindex.py):
#   (a) COPY of a ~65 MB context in 1,200 files (no emulation involved)
#   (b) (a) plus a small RUN (arm64 under qemu-user-static via binfmt_misc)
# Each case runs BENCH_RUNS times (default 3); the medians and their ratio
# are printed (target: the two-platform build below 1.0x of the two single
# ones: the context is hashed once, the COPY layer is written once).
# BENCH_SCALE=0.2 shrinks the context. Needs root for binfmt_misc.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/registry.sh
. tests/lib/debs.sh
. tests/lib/binfmt.sh

SCALE="${BENCH_SCALE:-1}"
RUNS="${BENCH_RUNS:-3}"
binfmt_setup aarch64 || { echo "qemu-aarch64 is not registered with binfmt_misc (tests/lib/binfmt.sh as root)"; exit 1; }
T="$(tmpdir_new bench-mplat)"
export XDG_CACHE_HOME="$T/xdg" SOURCE_DATE_EPOCH=1700000000
"$PYTHON" tests/lib/debindex.py "$T/base" 1 "amd64=$(deb_fetch amd64 busybox-static)" \
    "arm64=$(deb_fetch arm64 busybox-static)" >/dev/null
registry_start_open
"$BOSUN" copy -q "oci:$T/base:1" "$REG/base/bb:1" >/dev/null

A="$T/ctx"
mkdir -p "$A"
"$PYTHON" - "$A" "$SCALE" <<'PY'
import os, sys
root, scale = sys.argv[1], float(sys.argv[2])
text = (b"the quick brown fox jumps over the lazy dog 0123456789\n" * 600)[:27 * 1024]
for i in range(int(1200 * scale)):
    d = os.path.join(root, "d%02d" % (i % 40))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.bin" % i), "wb") as f:
        f.write(os.urandom(27 * 1024))
        f.write(text)
PY
printf 'FROM %s/base/bb:1\nCOPY . /data/\n' "$REG" >"$T/Dockerfile.copy"
printf 'FROM %s/base/bb:1\nARG TARGETARCH\nCOPY . /data/\nRUN mkdir /small && for i in 1 2 3 4 5 6 7 8 9 10; do echo "$i $(uname -m) $TARGETARCH" >/small/f$i; done\n' \
    "$REG" >"$T/Dockerfile.run"
echo "context: $(du -sh "$A" | cut -f1) in $(find "$A" -type f | wc -l) files, $RUNS runs per case"

# secs CMD...: wall seconds of CMD (its output kept in $T/last.log); the user CPU seconds in $T/last.user.
secs() {
    /usr/bin/time -f '%e %U' -o "$T/time" "$@" >"$T/last.log" 2>&1 || { cat "$T/last.log"; exit 1; }
    read -r s u <"$T/time"
    echo "$u" >"$T/last.user"
    echo "$s"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
n=0
run_case() { # NAME DOCKERFILE: sets MULTI, SINGLE (medians, seconds) and the user times
    local df="$2" m=() s=() i a b
    for ((i = 0; i < RUNS; i++)); do
        n=$((n + 1))
        m+=("$(secs "$BOSUN" build -f "$df" --platform linux/amd64,linux/arm64 -t "$REG/$1-multi:$n" --push "$A")")
        MULTI_USER=$(cat "$T/last.user")
        a=$(secs "$BOSUN" build -f "$df" --platform linux/amd64 -t "$REG/$1-amd64:$n" --push "$A")
        SINGLE_USER=$(cat "$T/last.user")
        b=$(secs "$BOSUN" build -f "$df" --platform linux/arm64 -t "$REG/$1-arm64:$n" --push "$A")
        SINGLE_USER=$(echo "$SINGLE_USER + $(cat "$T/last.user")" | bc)
        s+=("$(echo "$a + $b" | bc)")
    done
    MULTI=$(median "${m[@]}")
    SINGLE=$(median "${s[@]}")
}
ratio() { echo "scale=3; $1 / ($2)" | bc; }

run_case copy "$T/Dockerfile.copy"
copy_m=$MULTI copy_s=$SINGLE copy_mu=$MULTI_USER copy_su=$SINGLE_USER
run_case run "$T/Dockerfile.run"
run_m=$MULTI run_s=$SINGLE run_mu=$MULTI_USER run_su=$SINGLE_USER

printf '\n%-40s %10s %14s %7s\n' "case (build + push)" "2-plat s" "2 x 1-plat s" "ratio"
printf '%-40s %10s %14s %7s\n' "(a) COPY only" "$copy_m" "$copy_s" "$(ratio "$copy_m" "$copy_s")"
printf '%-40s %10s %14s %7s\n' "(b) COPY + small RUN (arm64 emulated)" "$run_m" "$run_s" "$(ratio "$run_m" "$run_s")"
printf '%-40s %10s %14s\n' "user CPU s, last run (a) / (b)" "$copy_mu / $run_mu" "$copy_su / $run_su"
printf 'target: the two-platform build below 1.0 of the two single-platform builds\n'
