#!/usr/bin/env bash
# make bench: bosun against skopeo copy on the same work, in one run.
# Push and pull of a ~130 MB, 5-layer image (incompressible data) to and
# from a local docker-registry; each run pushes into a repository that has
# none of the blobs yet. Then a re-push where every blob already exists.
# Uses hyperfine; prints medians and the bosun/skopeo ratio.
set -euo pipefail
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

RUNS=${BENCH_RUNS:-5}
W=$(tmpdir_new bench)
# A private copy of the binary, so a rebuild during the run changes nothing.
cp "$BOSUN" "$W/bosun"
BOSUN="$W/bosun"
registry_start_open
echo "making a 5 x 26 MiB image..."
make_multilayer_oci "$W/img" 5 26 v1 >/dev/null
du -sh "$W/img" | sed 's/^/image size: /'

# Every push starts from an empty registry (its storage is wiped), so no
# blob can be skipped or mounted.
hyperfine --runs "$RUNS" --warmup 1 --export-json "$W/push.json" \
	--prepare "rm -rf $REG_DIR/data/docker" \
	-n "bosun push" "$BOSUN -q copy oci:$W/img:v1 $REG/bench/app:v1" \
	-n "skopeo push" "skopeo --insecure-policy copy -q --dest-tls-verify=false oci:$W/img:v1 docker://$REG/bench/app:v1"
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$W/img:v1" "docker://$REG/bench/src:v1"
hyperfine --runs "$RUNS" --warmup 1 --export-json "$W/pull.json" \
	--prepare "rm -rf $W/pull-b $W/pull-s" \
	-n "bosun pull" "$BOSUN -q copy $REG/bench/src:v1 oci:$W/pull-b:v1" \
	-n "skopeo pull" "skopeo --insecure-policy copy -q --src-tls-verify=false docker://$REG/bench/src:v1 oci:$W/pull-s:v1"
hyperfine --runs 10 --warmup 1 --export-json "$W/repush.json" \
	-n "bosun re-push" "$BOSUN -q copy oci:$W/img:v1 $REG/bench/src:v1" \
	-n "skopeo re-push" "skopeo --insecure-policy copy -q --dest-tls-verify=false oci:$W/img:v1 docker://$REG/bench/src:v1"

"$PYTHON" - "$W" <<'PY'
import json, sys
w = sys.argv[1]
print("\nmedian wall time (s)          bosun   skopeo   bosun/skopeo")
for name in ("push", "pull", "repush"):
    res = json.load(open(f"{w}/{name}.json"))["results"]
    b, s = res[0]["median"], res[1]["median"]
    print(f"{name:28s} {b:7.3f}  {s:7.3f}   {b/s:6.2f}x")
PY
