#!/usr/bin/env bash
# Benchmark: bosun build --push vs buildah bud (vfs storage, chroot
# isolation) + buildah push, into the same local registry, in one run.
#   (a) COPY of a ~270 MB context in 5,000 files
#   (b) a RUN that writes 50 MB and 2,000 small files
#   (c) rebuild of (a) with a warm cache (bosun --cache-dir, buildah --layers)
# Prints wall times, ratios and bosun's peak RSS. BENCH_SCALE=0.1 shrinks (a).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/registry.sh
. tests/lib/images.sh

command -v buildah >/dev/null || { echo "buildah not installed (apt-get install buildah)"; exit 1; }
SCALE="${BENCH_SCALE:-1}"
T="$(tmpdir_new bench-build)"
registry_start_open
make_busybox_oci "$T/base" latest
skopeo copy -q --dest-tls-verify=false oci:"$T/base":latest docker://"$REG"/base:1
BA=(--root "$T/bstore" --runroot "$T/brun" --storage-driver vfs)

# (a) context: 5,000 files of ~54 KB, half random, half text.
A="$T/ctx-a"
mkdir -p "$A"
"$PYTHON" - "$A" "$SCALE" <<'PY'
import os, sys
root, scale = sys.argv[1], float(sys.argv[2])
n = int(5000 * scale)
text = (b"the quick brown fox jumps over the lazy dog 0123456789\n" * 600)[:27 * 1024]
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % 50))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.bin" % i), "wb") as f:
        f.write(os.urandom(27 * 1024))
        f.write(text)
PY
printf 'FROM %s/base:1\nCOPY . /data/\n' "$REG" >"$A/Dockerfile"
B="$T/ctx-b"
mkdir -p "$B"
cat >"$B/Dockerfile" <<DF
FROM $REG/base:1
RUN dd if=/dev/urandom of=/big bs=1048576 count=50 2>/dev/null && mkdir /small && i=0 && \
    while [ \$i -lt 2000 ]; do echo "file \$i" > /small/f\$i; i=\$((i+1)); done
DF
echo "context (a): $(du -sh "$A" | cut -f1) in $(find "$A" -type f | wc -l) files"

# time_cmd VAR CMD...: wall seconds into VAR; peak RSS (KiB) into VAR_rss.
time_cmd() {
    local var="$1"; shift
    local tf="$T/time.$var"
    /usr/bin/time -f '%e %M' -o "$tf" "$@" >"$T/log.$var" 2>&1 || { cat "$T/log.$var"; exit 1; }
    read -r secs rss <"$tf"
    printf -v "$var" '%s' "$secs"
    printf -v "${var}_rss" '%s' "$rss"
}

time_cmd bosun_a "$BOSUN" build --cache-dir "$T/cache" -t "$REG/bosun-a:1" --push "$A"
time_cmd bosun_b "$BOSUN" build -t "$REG/bosun-b:1" --push "$B"
time_cmd bosun_c "$BOSUN" build --cache-dir "$T/cache" -t "$REG/bosun-a:2" --push "$A"
grep -q 'cache hit' "$T/log.bosun_c" || { echo "bosun warm build had no cache hit"; exit 1; }

time_cmd bud_a buildah "${BA[@]}" bud --isolation chroot --layers --tls-verify=false -q -t bud-a "$A"
time_cmd push_a buildah "${BA[@]}" push --tls-verify=false bud-a docker://"$REG"/bud-a:1
time_cmd bud_b buildah "${BA[@]}" bud --isolation chroot --tls-verify=false -q -t bud-b "$B"
time_cmd push_b buildah "${BA[@]}" push --tls-verify=false bud-b docker://"$REG"/bud-b:1
time_cmd bud_c buildah "${BA[@]}" bud --isolation chroot --layers --tls-verify=false -q -t bud-a2 "$A"
time_cmd push_c buildah "${BA[@]}" push --tls-verify=false bud-a2 docker://"$REG"/bud-a:2

ratio() { echo "scale=3; $1 / ($2)" | bc; }
printf '\n%-44s %9s %9s %7s\n' "case" "bosun s" "buildah s" "ratio"
printf '%-44s %9s %9s %7s\n' "(a) COPY 270 MB / 5000 files, build+push" "$bosun_a" "$bud_a+$push_a" "$(ratio "$bosun_a" "$bud_a+$push_a")"
printf '%-44s %9s %9s %7s\n' "(b) RUN 50 MB + 2000 files, build+push" "$bosun_b" "$bud_b+$push_b" "$(ratio "$bosun_b" "$bud_b+$push_b")"
printf '%-44s %9s %9s %7s\n' "(b) same, build only for buildah" "$bosun_b" "$bud_b" "$(ratio "$bosun_b" "$bud_b")"
printf '%-44s %9s %9s %7s\n' "(c) rebuild (a), warm cache, build+push" "$bosun_c" "$bud_c+$push_c" "$(ratio "$bosun_c" "$bud_c+$push_c")"
printf '%-44s %9s %9s\n' "bosun peak RSS (KiB) a / b / c" "$bosun_a_rss / $bosun_b_rss / $bosun_c_rss" ""
printf 'targets: (a) <= 0.3, (b) <= 0.5, (c) < 0.1 of buildah\n'
