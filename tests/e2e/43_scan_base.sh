#!/usr/bin/env bash
# Base image from the image's own metadata: manifest annotations
# org.opencontainers.image.base.name/.digest, or config labels (same keys,
# or Azure's image.base.ref.name/image.base.digest). The base is resolved in
# a local registry; packages from its layers are marked from_base, and the
# closing line counts base findings that are fixed in newer versions.
set -u
. "$(dirname "$0")/../lib/registry.sh"

T=$(tmpdir_new base)
export XDG_CACHE_HOME="$T/xdg"
registry_start_open

# base: Debian 12 with zlib 1:1.2.13.dfsg-1; the app layer adds a Go binary
mkdir -p "$T/b/etc" "$T/b/var/lib/dpkg" "$T/a/usr/bin" "$T/osv"
printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' >"$T/b/etc/os-release"
printf 'Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nSource: zlib\n\n' >"$T/b/var/lib/dpkg/status"
cp /usr/bin/docker-registry "$T/a/usr/bin/"
cat >"$T/osv/DEBIAN-CVE-2099-1111.json" <<'J'
{"id":"DEBIAN-CVE-2099-1111","modified":"2024-01-01T00:00:00Z","summary":"zlib test advisory","aliases":["CVE-2099-1111"],
 "affected":[{"package":{"ecosystem":"Debian:12","name":"zlib"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:1.2.13.dfsg-1+deb12u1"}]}]}]}
J
check "db build" "$BOSUN" db build --osv "$SHARED/data/vulndata/osv-go-all.zip" --osv "$T/osv" -o "$T/v.db"
tar -C "$T/b" -cf - . | gzip -n >"$T/b.tgz"
tar -C "$T/a" -cf - . | gzip -n >"$T/a.tgz"

cat >"$T/mk.py" <<'PY'
# mk.py OUTDIR TAG ANNOTATIONS_JSON LABELS_JSON LAYER.tgz...: an OCI layout; prints the manifest digest
import gzip, hashlib, json, os, sys
d, tag, ann, labels, tgz = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5:]
b = os.path.join(d, "blobs", "sha256"); os.makedirs(b, exist_ok=True)
def put(data):
    h = hashlib.sha256(data).hexdigest(); open(os.path.join(b, h), "wb").write(data); return "sha256:" + h, len(data)
layers, diffs = [], []
for p in tgz:
    raw = open(p, "rb").read(); ld, ls = put(raw)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls})
    diffs.append("sha256:" + hashlib.sha256(gzip.decompress(raw)).hexdigest())
cfg = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diffs}, "config": {}}
if labels: cfg["config"]["Labels"] = labels
cd, cs = put(json.dumps(cfg).encode())
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs}, "layers": layers}
if ann: man["annotations"] = ann
md, ms = put(json.dumps(man).encode())
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
print(md)
PY
BD=$("$PYTHON" "$T/mk.py" "$T/base" 12 '{}' '{}' "$T/b.tgz")
check "push the base image" "$BOSUN" copy "oci:$T/base:12" "$REG/lib/debian:12"

# report facts: (package, from_base) per finding, and the base_image block
facts() {
    "$PYTHON" - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
fb = {(f["package"], f["from_base"]) for f in r["findings"]}
print("zlib-base" if ("zlib1g", True) in fb else "zlib-notbase" if ("zlib1g", False) in fb else "zlib-missing")
print("stdlib-base" if ("stdlib", True) in fb else "stdlib-app" if ("stdlib", False) in fb else "stdlib-missing")
print("base:", (r.get("base_image") or {}).get("name", "-"), (r.get("base_image") or {}).get("layers", "-"))
PY
}

# 1: manifest annotations name + digest
"$PYTHON" "$T/mk.py" "$T/app1" 1 "{\"org.opencontainers.image.base.name\":\"$REG/lib/debian:12\",\"org.opencontainers.image.base.digest\":\"$BD\"}" '{}' "$T/b.tgz" "$T/a.tgz" >/dev/null
expect_exit 0 "scan image with base annotations" "$BOSUN" scan --db "$T/v.db" --format json -o "$T/app1.json" "oci:$T/app1:1"
expect_out "closing line counts the base's fixed finding" '^1 finding comes from the base image and is fixed in newer versions of it'
F=$(facts "$T/app1.json")
printf '%s\n' "$F" | grep -qx 'zlib-base' && ok "zlib finding marked from_base" || fail "zlib from_base" "$F"
printf '%s\n' "$F" | grep -qx 'stdlib-app' && ok "Go stdlib findings (app layer) not from base" || fail "stdlib from_base" "$F"
printf '%s\n' "$F" | grep -qx "base: $REG/lib/debian:12@$BD 1" && ok "report names the base and its 1 layer" || fail "base_image block" "$F"
"$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert all(p["from_base"] == (p["name"]=="zlib1g") for p in r["packages"])' "$T/app1.json" \
    && ok "packages: only the base layer's are from_base" || fail "package from_base flags"

# 2: config labels, Azure's keys
"$PYTHON" "$T/mk.py" "$T/app2" 1 '{}' "{\"image.base.ref.name\":\"$REG/lib/debian:12\",\"image.base.digest\":\"$BD\"}" "$T/b.tgz" "$T/a.tgz" >/dev/null
expect_exit 0 "scan image with Azure base labels" "$BOSUN" scan --db "$T/v.db" --format json -o "$T/app2.json" "oci:$T/app2:1"
expect_out "closing line counts it" '^1 finding comes from the base image'
facts "$T/app2.json" | grep -qx 'zlib-base' && ok "labels: zlib finding from base" || fail "labels from_base" "$(facts "$T/app2.json")"

# 3: OCI keys as labels, tag only
"$PYTHON" "$T/mk.py" "$T/app3" 1 '{}' "{\"org.opencontainers.image.base.name\":\"$REG/lib/debian:12\"}" "$T/b.tgz" "$T/a.tgz" >/dev/null
expect_exit 0 "scan image with OCI base label (tag only)" "$BOSUN" scan --db "$T/v.db" --format json -o "$T/app3.json" "oci:$T/app3:1"
facts "$T/app3.json" | grep -qx 'zlib-base' && ok "label by tag: zlib finding from base" || fail "tag label" "$(facts "$T/app3.json")"

# 4: a base that moved on: the app's first layer is not the base's any more
mkdir -p "$T/b2/etc" && printf 'x\n' >"$T/b2/etc/motd" && tar -C "$T/b2" -cf - . | gzip -n >"$T/b2.tgz"
"$PYTHON" "$T/mk.py" "$T/base2" 12 '{}' '{}' "$T/b2.tgz" >/dev/null
check "push another image as the named base" "$BOSUN" copy "oci:$T/base2:12" "$REG/lib/other:12"
"$PYTHON" "$T/mk.py" "$T/app4" 1 "{\"org.opencontainers.image.base.name\":\"$REG/lib/other:12\"}" '{}' "$T/b.tgz" "$T/a.tgz" >/dev/null
expect_exit 0 "scan image whose named base shares no layer" "$BOSUN" scan --db "$T/v.db" --format json -o "$T/app4.json" "oci:$T/app4:1"
expect_out "nothing counted" '^0 findings come from the base image'
facts "$T/app4.json" | grep -qx 'zlib-notbase' && ok "no shared layer: nothing from base" || fail "unshared base" "$(facts "$T/app4.json")"

# 5: base unreachable: a warning, the scan goes on, nothing marked
DEAD=$(free_port)
"$PYTHON" "$T/mk.py" "$T/app5" 1 "{\"org.opencontainers.image.base.name\":\"127.0.0.1:$DEAD/lib/debian:12\"}" '{}' "$T/b.tgz" "$T/a.tgz" >/dev/null
expect_exit 0 "unreachable base does not fail the scan" "$BOSUN" scan --db "$T/v.db" --retries 0 --format json -o "$T/app5.json" "oci:$T/app5:1"
expect_out "warns that the base was not resolved" 'base image 127.0.0.1:[0-9]+/lib/debian:12 \(from the image.s annotations\) not resolved'
facts "$T/app5.json" | grep -qx 'zlib-notbase' && ok "unresolved base: nothing marked" || fail "unresolved base" "$(facts "$T/app5.json")"

# 6: --base wins over annotations, and an image pulled from the registry works too
check "push app1" "$BOSUN" copy "oci:$T/app1:1" "$REG/app/one:1"
expect_exit 0 "registry image with annotations" "$BOSUN" scan --db "$T/v.db" --format json -o "$T/reg.json" "$REG/app/one:1"
facts "$T/reg.json" | grep -qx 'zlib-base' && ok "registry target: zlib from base" || fail "registry target" "$(facts "$T/reg.json")"
expect_exit 0 "--base overrides the annotations" "$BOSUN" scan --db "$T/v.db" --base "oci:$T/base2:12" --format json -o "$T/ovr.json" "oci:$T/app1:1"
facts "$T/ovr.json" | grep -qx 'zlib-notbase' && ok "--base used instead of the annotation" || fail "--base override" "$(facts "$T/ovr.json")"
# table output: the closing line is the last line
OUT=$("$BOSUN" scan --db "$T/v.db" "oci:$T/app1:1" 2>&1 | tail -1)
printf '%s\n' "$OUT" | grep -q '^1 finding comes from the base image and is fixed in newer versions of it' && ok "table ends with the base line" || fail "table last line" "$OUT"
finish
