#!/usr/bin/env bash
# Benchmark (issue 15): a COPY-only build pushed into a fresh local
# docker-registry, bosun build --push against buildah bud + buildah push
# (vfs storage, chroot isolation), for two generated contexts:
#   (a) 137 MB in 2,500 files   target bosun <= 0.3x of buildah
#   (b) 274 MB in 5,001 files   target bosun <= 0.25x of buildah
# and, for bosun's build alone (to an OCI layout, no push), wall time
# against user time: on two cores the target is wall <= 0.6x user (both
# cores busy). `tar | pigz -6` of the same context is printed for scale.
# Every run starts from an empty registry (its storage wiped, the base
# pushed again) and, for buildah, an empty image store; hyperfine runs each
# command BENCH_RUNS times (default 3) and the medians are compared.
# The contexts come from tests/bench/gen_context.py: seeded, so the same
# bytes everywhere. BENCH_CASES="a" runs one case; BOSUN_BASELINE=PATH adds
# that (older) binary's build --push and build to a layout to the same runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/registry.sh
. tests/lib/images.sh

for t in buildah hyperfine pigz skopeo; do
	command -v "$t" >/dev/null || { echo "$t not installed"; exit 1; }
done
RUNS="${BENCH_RUNS:-3}"
CASES="${BENCH_CASES:-a b}"
T="$(tmpdir_new bench-copy)"
# A private copy of the binary, so a rebuild during the run changes nothing.
cp "$BOSUN" "$T/bosun"
BOSUN="$T/bosun"
if [ -n "${BOSUN_BASELINE:-}" ]; then
	cp "$BOSUN_BASELINE" "$T/bosun-baseline"
fi
registry_start_open
make_busybox_oci "$T/base" latest
PUSH_BASE="skopeo copy -q --dest-tls-verify=false oci:$T/base:latest docker://$REG/base:1"
FRESH_REG="rm -rf $REG_DIR/data/docker && $PUSH_BASE"
BA="--root $T/bstore --runroot $T/brun --storage-driver vfs"
export SOURCE_DATE_EPOCH=1700000000

declare -A FILES=([a]=2500 [b]=5001) MB=([a]=137 [b]=274) TARGET=([a]=0.3 [b]=0.25)
RESULTS=()
for c in $CASES; do
	ctx="$T/ctx-$c"
	mkdir -p "$ctx"
	"$PYTHON" tests/bench/gen_context.py "$ctx" "${FILES[$c]}" "${MB[$c]}"
	printf 'FROM %s/base:1\nCOPY . /data/\n' "$REG" >"$ctx/Dockerfile"
	echo "context ($c): $(du -sm "$ctx" | cut -f1) MiB in $(find "$ctx" -type f | wc -l) files; load: $(cut -d' ' -f1-3 /proc/loadavg)"
	eval "$FRESH_REG"
	BASE_CMDS=()
	if [ -n "${BOSUN_BASELINE:-}" ]; then
		BASE_CMDS=(-n "baseline build --push" "$T/bosun-baseline -q build -t $REG/base-$c:1 --push $ctx"
			-n "baseline build (OCI layout)" "$T/bosun-baseline -q build --output oci:$T/out:t $ctx")
	fi
	hyperfine --runs "$RUNS" --warmup 1 --export-json "$T/$c.json" \
		--prepare "$FRESH_REG && rm -rf $T/out $T/bstore $T/brun && sync" \
		-n "bosun build --push" "$BOSUN -q build -t $REG/app-$c:1 --push $ctx" \
		-n "bosun build (OCI layout)" "$BOSUN -q build --output oci:$T/out:t $ctx" \
		-n "buildah bud + push" "buildah $BA bud --isolation chroot --tls-verify=false -q -t bud-$c $ctx >/dev/null && buildah $BA push --tls-verify=false bud-$c docker://$REG/bud-$c:1" \
		-n "tar | pigz -6" "tar cf - -C $ctx . | pigz -6 >/dev/null" "${BASE_CMDS[@]}"
	RESULTS+=("$c")
done

"$PYTHON" - "$T" "${RESULTS[@]}" <<PY
import json, statistics, sys
t, cases = sys.argv[1], sys.argv[2:]
target = {"a": ${TARGET[a]}, "b": ${TARGET[b]}}
desc = {"a": "137 MB / 2,500 files", "b": "274 MB / 5,001 files"}
print()
for c in cases:
    r = {x["command"]: x for x in json.load(open(f"{t}/{c}.json"))["results"]}
    med = {k: statistics.median(v["times"]) for k, v in r.items()}
    bp, bl, bud, pz = (med[k] for k in ("bosun build --push", "bosun build (OCI layout)",
                                        "buildah bud + push", "tar | pigz -6"))
    print(f"({c}) {desc[c]}: median wall s over {len(r['buildah bud + push']['times'])} runs")
    print(f"    bosun build --push {bp:7.2f}   buildah bud + push {bud:7.2f}   "
          f"ratio {bp / bud:5.3f}  (target <= {target[c]})")
    lay = r["bosun build (OCI layout)"]
    print(f"    bosun build to a layout {bl:6.2f}  user {lay['user']:5.2f}  sys {lay['system']:5.2f}  "
          f"wall/user {bl / lay['user']:5.2f}  (target <= 0.6)   tar | pigz -6 {pz:5.2f}")
    for k in ("baseline build --push", "baseline build (OCI layout)"):
        if k in r:
            print(f"    {k}: {med[k]:6.2f}  user {r[k]['user']:5.2f}  sys {r[k]['system']:5.2f}  "
                  f"ratio to buildah {med[k] / bud:5.3f}")
    short = {"bosun build --push": "bosun+push", "bosun build (OCI layout)": "bosun-layout",
             "buildah bud + push": "buildah+push", "tar | pigz -6": "pigz",
             "baseline build --push": "baseline+push", "baseline build (OCI layout)": "baseline-layout"}
    print("    every run, wall s: " + "; ".join(
        f"{short[k]} " + " ".join(f"{x:.2f}" for x in v["times"]) for k, v in r.items()))
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores shared with other work: figures vary)"
