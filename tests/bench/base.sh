#!/usr/bin/env bash
# bosun base watch over 50 images (20 on an outdated base) against the same
# work done with skopeo in a shell loop: read each image's manifest for the
# base annotations, then the base tag's current digest. Local
# docker-registry; hyperfine medians and the ratio.
set -euo pipefail
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

RUNS=${BENCH_RUNS:-5}
W=$(tmpdir_new bench-base)
cp "$BOSUN" "$W/bosun"
BOSUN="$W/bosun"
registry_start_open
make_busybox_oci "$W/bb" 1 >/dev/null
"$BOSUN" -q copy "oci:$W/bb:1" "$REG/base:1" >/dev/null
mkdir -p "$W/app" "$W/b2"
printf 'x\n' >"$W/app/x" && printf 'FROM %s/base:1\nCOPY x /x\n' "$REG" >"$W/app/Dockerfile"
printf 'v2\n' >"$W/b2/v2" && printf 'FROM oci:%s/bb:1\nCOPY v2 /v2\n' "$W" >"$W/b2/Dockerfile"
"$BOSUN" -q build --output "oci:$W/old:1" "$W/app" >/dev/null 2>&1
"$BOSUN" -q build -t "$REG/base:1" --push "$W/b2" >/dev/null 2>&1
"$BOSUN" -q build --output "oci:$W/new:1" "$W/app" >/dev/null 2>&1
: >"$W/fleet.txt"
for i in $(seq -w 0 49); do
    src=new; [ "$i" -lt 20 ] && src=old
    "$BOSUN" -q copy "oci:$W/$src:1" "$REG/fleet/app$i:1" >/dev/null 2>&1
    echo "$REG/fleet/app$i:1" >>"$W/fleet.txt"
done
cat >"$W/skopeo-watch.sh" <<'SH'
#!/usr/bin/env bash
# The same answer with skopeo: annotations from the manifest, then the
# base tag's digest; prints the stale images.
while read -r img; do
    m=$(skopeo inspect --tls-verify=false --raw "docker://$img")
    name=$(printf '%s' "$m" | python3 -c 'import json,sys; print(json.load(sys.stdin)["annotations"]["org.opencontainers.image.base.name"])')
    dig=$(printf '%s' "$m" | python3 -c 'import json,sys; print(json.load(sys.stdin)["annotations"]["org.opencontainers.image.base.digest"])')
    now=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://${name%@*}")
    [ "$now" = "$dig" ] || echo "stale $img"
done <"$1"
SH
chmod +x "$W/skopeo-watch.sh"
[ "$("$W/skopeo-watch.sh" "$W/fleet.txt" | wc -l)" = 20 ] || { echo "skopeo loop disagrees"; exit 1; }
hyperfine --runs "$RUNS" --warmup 1 --export-json "$W/base.json" \
    -n "bosun base watch (8 jobs)" "$BOSUN -q base watch --images $W/fleet.txt --report-dir $W/r8" \
    -n "bosun base watch (1 job)" "$BOSUN -q base watch --jobs 1 --images $W/fleet.txt --report-dir $W/r1" \
    -n "skopeo loop" "$W/skopeo-watch.sh $W/fleet.txt" >/dev/null
"$PYTHON" - "$W/base.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
for k, v in r.items():
    print("%-28s median %8.1f ms" % (k, v * 1e3))
s = r["skopeo loop"]
print("ratio bosun (8 jobs) / skopeo loop: %.3f" % (r["bosun base watch (8 jobs)"] / s))
print("ratio bosun (1 job) / skopeo loop:  %.3f" % (r["bosun base watch (1 job)"] / s))
PY
