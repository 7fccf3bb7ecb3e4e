#!/usr/bin/env bash
# Per-layer inventory cache: a warm scan reads no layer (its blobs are
# removed and the result is the same), whiteouts and replaced files work
# through the cache, concurrent scans share it safely, damaged entries are
# re-read, and the size cap evicts the least recently used entries.
set -u
. "$(dirname "$0")/../lib/registry.sh"

T=$(tmpdir_new cache)
export XDG_CACHE_HOME="$T/xdg"
check "db build" "$BOSUN" db build --osv "$SHARED/data/vulndata/osv-go-all.zip" -o "$T/go.db"

# Three layers: 0 Debian dpkg status + os-release; 1 a Go binary, an npm
# package and a second Go binary; 2 whites out the npm package and replaces
# the second Go binary by a shell script.
mkdir -p "$T/l0/etc" "$T/l0/var/lib/dpkg" "$T/l1/usr/bin" "$T/l1/app/node_modules/leftpad-test" "$T/l2/app/node_modules" "$T/l2/usr/local/bin" "$T/l1/usr/local/bin"
printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' >"$T/l0/etc/os-release"
printf 'Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u4\nSource: glibc\n\nPackage: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nSource: zlib\n' >"$T/l0/var/lib/dpkg/status"
cp /usr/bin/docker-registry "$T/l1/usr/bin/"
cp /usr/bin/docker-registry "$T/l1/usr/local/bin/other-go"
printf '{"name":"leftpad-test","version":"1.2.0"}' >"$T/l1/app/node_modules/leftpad-test/package.json"
printf '{"name":"kept-test","version":"2.0.0"}' >"$T/l1/app/node_modules/kept.json"
: >"$T/l2/app/node_modules/.wh.leftpad-test"
printf '#!/bin/sh\necho not go any more\n' >"$T/l2/usr/local/bin/other-go"; chmod +x "$T/l2/usr/local/bin/other-go"
for i in 0 1 2; do tar -C "$T/l$i" -cf - . | gzip -n >"$T/l$i.tar.gz"; done
"$PYTHON" - "$T" <<'PY'
import gzip, hashlib, json, os, sys
t = sys.argv[1]; d = os.path.join(t, "img"); b = os.path.join(d, "blobs", "sha256"); os.makedirs(b)
def put(data):
    h = hashlib.sha256(data).hexdigest(); open(os.path.join(b, h), "wb").write(data); return "sha256:" + h, len(data)
layers, diffs = [], []
for i in range(3):
    raw = open(os.path.join(t, "l%d.tar.gz" % i), "rb").read()
    ld, ls = put(raw); layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls})
    diffs.append("sha256:" + hashlib.sha256(gzip.decompress(raw)).hexdigest())
cd, cs = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diffs}, "config": {}}).encode())
md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs}, "layers": layers}).encode())
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "1"}}]}))
open(os.path.join(t, "layers.txt"), "w").write("\n".join(l["digest"].split(":")[1] for l in layers) + "\n")
PY
# the part of a report that must not depend on the cache
summary() {
    "$PYTHON" -c 'import json,sys
r = json.load(open(sys.argv[1]))
print(sorted((p["name"], p["version"], p["path"], p.get("layer")) for p in r["packages"]))
print(sorted((f["id"], f["package"], f["path"]) for f in r["findings"]))' "$1"
}
S="$BOSUN scan --db $T/go.db --format json"

check "cold scan without cache" $S -o "$T/nocache.json" --no-cache "oci:$T/img:1"
[ ! -e "$XDG_CACHE_HOME/bosun/inventory" ] && ok "--no-cache writes no cache" || fail "--no-cache wrote a cache"
summary "$T/nocache.json" >"$T/nocache.sum"
grep -q "leftpad-test" "$T/nocache.sum" && fail "whiteout not applied" || ok "whited-out npm package is gone"
grep -q "kept-test\|other-go" "$T/nocache.sum" && fail "replaced Go binary still listed" "$(cat "$T/nocache.sum")" || ok "Go binary replaced by a script in an upper layer is gone"
grep -q "'stdlib'.*usr/bin/docker-registry" "$T/nocache.sum" && ok "Go binary in layer 1 found" || fail "stdlib missing"
grep -q "'libc6', '2.36-9+deb12u4'" "$T/nocache.sum" && ok "dpkg package in layer 0 found" || fail "libc6 missing"

OUT=$($S -v -o "$T/first.json" "oci:$T/img:1" 2>&1) && ok "first scan fills the cache" || fail "first scan" "$OUT"
[ "$(printf '%s\n' "$OUT" | grep -c 'reading')" -eq 3 ] && ok "first scan reads 3 layers" || fail "first scan reads" "$OUT"
n_inv=$(ls "$XDG_CACHE_HOME/bosun/inventory/"*.inv 2>/dev/null | wc -l)
[ "$n_inv" -eq 3 ] && ok "3 cache entries, one per layer digest" || fail "cache entries: $n_inv"
for d in $(cat "$T/layers.txt"); do [ -f "$XDG_CACHE_HOME/bosun/inventory/sha256-$d.inv" ] || fail "no entry for $d"; done

# a copy of the layout without any layer blob: only the cache can answer
cp -r "$T/img" "$T/img-nolayers"
for d in $(cat "$T/layers.txt"); do rm "$T/img-nolayers/blobs/sha256/$d"; done
OUT=$($S -v -o "$T/warm.json" "oci:$T/img-nolayers:1" 2>&1) && ok "warm scan of the image without layer blobs" || fail "warm scan" "$OUT"
[ "$(printf '%s\n' "$OUT" | grep -c 'cache hit')" -eq 3 ] && ok "3 cache hits logged" || fail "cache hits" "$OUT"
summary "$T/warm.json" >"$T/warm.sum"
summary "$T/first.json" >"$T/first.sum"
cmp -s "$T/nocache.sum" "$T/first.sum" && cmp -s "$T/nocache.sum" "$T/warm.sum" && ok "cold, first and warm scans agree (packages, layers, findings)" || fail "results differ" "$(diff "$T/nocache.sum" "$T/warm.sum")"
expect_exit 3 "--no-cache on the blob-less copy must read layers: exit 3" $S --no-cache "oci:$T/img-nolayers:1"

# damaged entry: a warning, the layer is read again, same result
first=$(head -1 "$T/layers.txt")
printf 'garbage' >"$XDG_CACHE_HOME/bosun/inventory/sha256-$first.inv"
OUT=$($S -o "$T/dmg.json" "oci:$T/img:1" 2>&1) && ok "scan with a damaged cache entry" || fail "damaged entry" "$OUT"
printf '%s\n' "$OUT" | grep -q 'damaged' && ok "warns about the damaged entry" || fail "no warning" "$OUT"
summary "$T/dmg.json" | cmp -s - "$T/nocache.sum" && ok "same result after re-reading" || fail "damaged result differs"
"$PYTHON" -c 'import sys; d=open(sys.argv[1],"rb").read(); assert d.startswith(b"BOSUNLC1")' "$XDG_CACHE_HOME/bosun/inventory/sha256-$first.inv" \
    && ok "damaged entry rewritten" || fail "entry not rewritten"
# truncated entry (half a file)
f="$XDG_CACHE_HOME/bosun/inventory/sha256-$(sed -n 2p "$T/layers.txt").inv"
head -c $(( $(stat -c %s "$f") / 2 )) "$f" >"$f.t" && mv "$f.t" "$f"
check "scan with a truncated cache entry" $S -o "$T/trunc.json" "oci:$T/img:1"
summary "$T/trunc.json" | cmp -s - "$T/nocache.sum" && ok "same result with a truncated entry" || fail "truncated result differs"

# an entry of another catalog version (an older bosun): silently read again
f="$XDG_CACHE_HOME/bosun/inventory/sha256-$(sed -n 2p "$T/layers.txt").inv"
"$PYTHON" -c 'import sys; p=sys.argv[1]; d=bytearray(open(p,"rb").read()); d[8:12]=(1).to_bytes(4,"little"); open(p,"wb").write(d)' "$f"
OUT=$($S -v -o "$T/ver.json" "oci:$T/img:1" 2>&1) && ok "scan with an entry of an older catalog version" || fail "old version entry" "$OUT"
[ "$(printf '%s\n' "$OUT" | grep -c 'reading')" -eq 1 ] && ok "that layer alone is read again" || fail "re-read count" "$OUT"
printf '%s\n' "$OUT" | grep -q damaged && fail "an old version is not damage" || ok "no damage warning for an old version"
summary "$T/ver.json" | cmp -s - "$T/nocache.sum" && ok "same result" || fail "old version result"
cur=$(sed -n 's/^#define LCACHE_CATALOG_VERSION \([0-9]*\).*/\1/p' "$REPO/src/scan/layercache.h")
"$PYTHON" -c 'import sys; d=open(sys.argv[1],"rb").read(); assert int.from_bytes(d[8:12],"little") == int(sys.argv[2])' "$f" "$cur" && ok "entry rewritten at the current version" || fail "entry version"

# concurrent scans on an empty cache
export XDG_CACHE_HOME="$T/xdg2"
pids=()
for i in 1 2 3 4; do $S -o "$T/par$i.json" "oci:$T/img:1" >"$T/par$i.log" 2>&1 & pids+=($!); done
rcs=0; for p in "${pids[@]}"; do wait "$p" || rcs=$((rcs + 1)); done
[ "$rcs" -eq 0 ] && ok "4 concurrent scans succeed" || fail "concurrent scans failed: $rcs" "$(cat "$T"/par*.log)"
same=0; for i in 1 2 3 4; do summary "$T/par$i.json" | cmp -s - "$T/nocache.sum" && same=$((same + 1)); done
[ "$same" -eq 4 ] && ok "all 4 concurrent results are right" || fail "concurrent results differ ($same of 4)"
ls "$XDG_CACHE_HOME/bosun/inventory/" | grep -v '\.inv$' | grep -v '^\.lock$' | grep -q . && fail "temporary files left" "$(ls -a "$XDG_CACHE_HOME/bosun/inventory/")" || ok "no temporary files left"
OUT=$($S -v -o "$T/after.json" "oci:$T/img-nolayers:1" 2>&1) && ok "cache written concurrently serves a warm scan" || fail "after concurrent" "$OUT"
summary "$T/after.json" | cmp -s - "$T/nocache.sum" && ok "and gives the right result" || fail "after concurrent result"

# size cap: the Go build info entry is the big one; a cap below the total evicts LRU entries
export XDG_CACHE_HOME="$T/xdg3"
check "scan with a tiny cache cap" $S --cache-max-size 1K -o "$T/cap.json" "oci:$T/img:1"
tot=$(cat "$XDG_CACHE_HOME"/bosun/inventory/*.inv 2>/dev/null | wc -c)
[ "$tot" -le 1024 ] && ok "cache trimmed under the cap ($tot bytes)" || fail "cache over cap: $tot bytes"
summary "$T/cap.json" | cmp -s - "$T/nocache.sum" && ok "result unaffected by eviction" || fail "cap result differs"
check "generous cap keeps all" $S --cache-max-size 64M -o "$T/cap2.json" "oci:$T/img:1"
[ "$(ls "$XDG_CACHE_HOME"/bosun/inventory/*.inv | wc -l)" -eq 3 ] && ok "64M cap keeps all 3 entries" || fail "entries evicted under 64M"
# registry image: a warm scan downloads no layer (the blobs are deleted from
# the registry's storage after the first scan)
export XDG_CACHE_HOME="$T/xdg4"
registry_start_open
mkdir -p "$T/tmp"; export TMPDIR="$T/tmp"
check "push the image" "$BOSUN" copy "oci:$T/img:1" "$REG/cache/app:1"
check "first registry scan" $S -o "$T/reg1.json" "$REG/cache/app:1"
for d in $(cat "$T/layers.txt"); do rm -f "$REG_DIR/data/docker/registry/v2/blobs/sha256/${d:0:2}/$d/data"; done
expect_exit 0 "warm registry scan with the layer blobs gone from the registry" $S -o "$T/reg2.json" "$REG/cache/app:1"
summary "$T/reg2.json" | cmp -s - "$T/nocache.sum" && ok "warm registry scan: right result without downloading layers" || fail "warm registry result"
OUT=$($S --no-cache -o /dev/null "$REG/cache/app:1" 2>&1); RC=$?
[ "$RC" -eq 4 ] || [ "$RC" -eq 3 ] && ok "--no-cache must download them and fails ($RC)" || fail "--no-cache registry scan exit $RC" "$OUT"
ls "$TMPDIR" | grep -q . && fail "temporary layer directory left behind" || ok "no temporary layer directory left"
expect_exit 2 "bad --cache-max-size is a usage error" $S --cache-max-size lots "oci:$T/img:1"
finish
