#!/usr/bin/env bash
# Scan benchmark (issue 4), side by side with the decompression floor:
#  (a) a debootstrap'd bookworm minbase root packed as a one-layer OCI image
#      (built once, cached in ~/.cache/bosun-test);
#  (b) an image with a few thousand Python and npm packages;
#  with a database of the Go data plus generated records (~50,000 advisories).
# Prints medians (hyperfine), peak memory (/usr/bin/time -v) and the ratios
# against the targets: cold scan <= 1.1x zcat of the same layers, warm scan
# <= 100 ms and <= 64 MB, db build of the Go zip <= 2 s, 50k feed <= 20 s.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/scan_rootfs.sh"

RUNS=${BENCH_RUNS:-5}
W=$(tmpdir_new bench-scan)
cp "$BOSUN" "$W/bosun"; B="$W/bosun"
export XDG_CACHE_HOME="$W/xdg"
GOZIP="$SHARED/data/vulndata/osv-go-all.zip"

IMG=$(rootfs_bookworm_oci)
LA=$(rootfs_layer_blob "$IMG")
echo "image (a): $(du -sh "$LA" | cut -f1) gzip layer, $(zcat "$LA" | wc -c | awk '{printf "%.0f MB", $1/1e6}') uncompressed"

# ---- (b): 2,500 npm packages and 1,500 Python distributions in two layers
"$PYTHON" - "$W" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
w = sys.argv[1]; d = os.path.join(w, "imgb"); b = os.path.join(d, "blobs", "sha256"); os.makedirs(b)
def put(data):
    h = hashlib.sha256(data).hexdigest(); open(os.path.join(b, h), "wb").write(data); return "sha256:" + h, len(data)
def layer(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for name, data in files:
            ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    tar = raw.getvalue(); gz = gzip.compress(tar, 6, mtime=0)
    return put(gz), "sha256:" + hashlib.sha256(tar).hexdigest()
npm = []
for i in range(2500):
    n = "pkg-%04d" % i
    npm.append(("app/node_modules/%s/package.json" % n, json.dumps({"name": n, "version": "1.%d.0" % (i % 20), "description": "x" * 200}).encode()))
    npm.append(("app/node_modules/%s/index.js" % n, b"module.exports = 1;\n" * 50))
py = []
for i in range(1500):
    n = "dist_%04d" % i
    py.append(("usr/lib/python3/dist-packages/%s-2.%d.dist-info/METADATA" % (n, i % 10), ("Metadata-Version: 2.1\nName: %s\nVersion: 2.%d\n\n%s" % (n, i % 10, "d" * 300)).encode()))
    py.append(("usr/lib/python3/dist-packages/%s/__init__.py" % n, b"x = 1\n" * 100))
layers, diffs = [], []
for files in (npm, py):
    (ld, ls), diff = layer(files); layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}); diffs.append(diff)
cd, cs = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diffs}, "config": {}}).encode())
md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs}, "layers": layers}).encode())
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "1"}}]}))
open(os.path.join(w, "imgb-layers.txt"), "w").write("\n".join(os.path.join(b, l["digest"][7:]) for l in layers))
# ~46,000 generated advisories over npm and PyPI, some hitting the image's packages
import zipfile
with zipfile.ZipFile(os.path.join(w, "gen.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(46000):
        eco, name = (("npm", "pkg-%04d" % (i % 5000)) if i % 2 else ("PyPI", "dist-%04d" % (i % 3000)))
        rec = {"id": "GEN-%06d" % i, "modified": "2024-01-01T00:00:00Z", "summary": "generated advisory %d" % i,
               "aliases": ["CVE-2098-%05d" % i], "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N"}],
               "affected": [{"package": {"ecosystem": eco, "name": name},
                             "ranges": [{"type": "SEMVER" if eco == "npm" else "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.%d.0" % (i % 25) if eco == "npm" else "2.%d" % (i % 12)}]}]}]}
        z.writestr("GEN-%06d.json" % i, json.dumps(rec))
PY
echo "image (b): $(du -sh "$W/imgb" | cut -f1), 2,500 npm + 1,500 Python packages"

# ---- db build
peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); printf "%.1f MB", $2/1024}'; }
hyperfine --runs 3 --export-json "$W/dbgo.json" -n "db build (Go zip, 4291 records)" "$B db build --osv $GOZIP -o $W/go.db" >/dev/null
"$B" db build --osv "$GOZIP" --osv "$W/gen.zip" -o "$W/big.db" | sed 's/^/big db: /'
hyperfine --runs 1 --export-json "$W/dbbig.json" -n "db build (Go + 46k generated)" "$B db build --osv $GOZIP --osv $W/gen.zip -o $W/big2.db" >/dev/null
mem_go=$(peak "$B" db build --osv "$GOZIP" -o "$W/go3.db")
mem_big=$(peak "$B" db build --osv "$GOZIP" --osv "$W/gen.zip" -o "$W/big3.db")

# ---- (a) cold vs zcat / pigz, warm
S="$B scan --db $W/big.db --format json -o /dev/null"
cmds=(-n "zcat (a) layer" "zcat $LA >/dev/null")
command -v pigz >/dev/null && cmds+=(-n "pigz -d (a) layer" "pigz -dc $LA >/dev/null")
hyperfine --runs "$RUNS" --warmup 1 --export-json "$W/a-cold.json" "${cmds[@]}" \
    -n "bosun scan (a) --no-cache" "$S --no-cache oci:$IMG:12" >/dev/null
$S "oci:$IMG:12" 2>/dev/null # fill the cache
hyperfine --runs "$((RUNS * 4))" --warmup 2 --export-json "$W/a-warm.json" -n "bosun scan (a) warm" "$S oci:$IMG:12" >/dev/null
mem_cold=$(peak $S --no-cache "oci:$IMG:12")
mem_warm=$(peak $S "oci:$IMG:12")
# ---- (b)
zb="zcat $(tr '\n' ' ' <"$W/imgb-layers.txt") >/dev/null"
hyperfine --runs "$RUNS" --warmup 1 --export-json "$W/b-cold.json" -n "zcat (b) layers" "$zb" \
    -n "bosun scan (b) --no-cache" "$S --no-cache oci:$W/imgb:1" >/dev/null
$S "oci:$W/imgb:1" 2>/dev/null
hyperfine --runs "$((RUNS * 4))" --warmup 2 --export-json "$W/b-warm.json" -n "bosun scan (b) warm" "$S oci:$W/imgb:1" >/dev/null
mem_bcold=$(peak $S --no-cache "oci:$W/imgb:1")
mem_bwarm=$(peak $S "oci:$W/imgb:1")
nf=$("$B" scan --db "$W/big.db" --format json "oci:$W/imgb:1" 2>/dev/null | "$PYTHON" -c 'import json,sys; r=json.load(sys.stdin); print(len(r["packages"]), "packages,", len(r["findings"]), "findings")')

"$PYTHON" - "$W" "$mem_go" "$mem_big" "$mem_cold" "$mem_warm" "$mem_bcold" "$mem_bwarm" "$nf" <<'PY'
import json, os, sys
w = sys.argv[1]
def med(f, name=None):
    r = json.load(open(os.path.join(w, f)))["results"]
    return {x["command"]: x["median"] for x in r}
dg, db = med("dbgo.json"), med("dbbig.json")
ac, aw, bc, bw = med("a-cold.json"), med("a-warm.json"), med("b-cold.json"), med("b-warm.json")
g = list(dg.values())[0]; big = list(db.values())[0]
print("\n== db build")
print("  Go zip (4,291 records):       %6.2f s  peak %s   target <= 2 s  (%.2fx of target)" % (g, sys.argv[2], g / 2))
print("  Go + 46,000 generated:        %6.2f s  peak %s   target <= 20 s (%.2fx of target)" % (big, sys.argv[3], big / 20))
z = ac["zcat (a) layer"]; s = ac["bosun scan (a) --no-cache"]; p = ac.get("pigz -d (a) layer")
print("\n== (a) bookworm minbase, one layer")
print("  zcat of the layer:            %6.3f s" % z)
if p: print("  pigz -d of the layer:         %6.3f s" % p)
print("  bosun scan --no-cache:        %6.3f s  peak %s   ratio to zcat %.2fx (target <= 1.1x)%s" % (s, sys.argv[4], s / z, ("; to pigz -d %.2fx" % (s / p)) if p else ""))
ww = list(aw.values())[0]
print("  bosun scan, warm cache:       %6.3f s  peak %s   target <= 0.100 s and <= 64 MB (%.2fx of time target)" % (ww, sys.argv[5], ww / 0.1))
zb = bc["zcat (b) layers"]; sb = bc["bosun scan (b) --no-cache"]; wb = list(bw.values())[0]
print("\n== (b) %s" % sys.argv[8])
print("  zcat of the layers:           %6.3f s" % zb)
print("  bosun scan --no-cache:        %6.3f s  peak %s   ratio to zcat %.2fx" % (sb, sys.argv[6], sb / zb))
print("  bosun scan, warm cache:       %6.3f s  peak %s" % (wb, sys.argv[7]))
PY
