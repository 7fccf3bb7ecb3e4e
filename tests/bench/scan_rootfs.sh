# shellcheck shell=bash
# Sourced by tests/e2e/45_scan_debian.sh and tests/bench/scan.sh: a
# debootstrap'd Debian bookworm minbase root file system, built once into
# ~/.cache/bosun-test (BOSUN_TEST_CACHE overrides) and reused, and the same
# tree packed as a one-layer OCI image (gzip).
#
#   rootfs_bookworm        prints the root's path, or fails with a reason on stderr
#   rootfs_bookworm_oci    prints the OCI layout's path (tag "12"), built once

_RFS_CACHE="${BOSUN_TEST_CACHE:-$HOME/.cache/bosun-test}"

rootfs_bookworm() {
    local d="$_RFS_CACHE/bookworm-minbase" mirror
    if [ -f "$d/var/lib/dpkg/status" ] && [ -f "$d/etc/os-release" ]; then echo "$d"; return 0; fi
    if ! command -v debootstrap >/dev/null; then
        echo "debootstrap is not installed (apt-get install debootstrap)" >&2; return 1
    fi
    if [ "$(id -u)" != 0 ]; then echo "debootstrap needs root" >&2; return 1; fi
    # the mirror apt itself uses
    mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
        grep -v security | head -1 | awk '{print ($1 == "deb") ? $2 : $2}')
    mirror=${mirror:-http://deb.debian.org/debian}
    mkdir -p "$_RFS_CACHE"
    rm -rf "$d.tmp"
    echo "# building a bookworm minbase root in $d (once) from $mirror" >&2
    if ! debootstrap --variant=minbase bookworm "$d.tmp" "$mirror" >"$_RFS_CACHE/debootstrap.log" 2>&1; then
        echo "debootstrap failed (see $_RFS_CACHE/debootstrap.log): $(tail -1 "$_RFS_CACHE/debootstrap.log")" >&2
        rm -rf "$d.tmp"; return 1
    fi
    mv "$d.tmp" "$d"
    echo "$d"
}

rootfs_bookworm_oci() {
    local root o="$_RFS_CACHE/bookworm-minbase-oci" z
    root=$(rootfs_bookworm) || return 1
    if [ -f "$o/index.json" ] && [ "$o/index.json" -nt "$root/var/lib/dpkg/status" ]; then echo "$o"; return 0; fi
    rm -rf "$o" "$o.tmp"; mkdir -p "$o.tmp"
    z=gzip; command -v pigz >/dev/null && z=pigz
    tar --numeric-owner --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -C "$root" -cf - . | "$z" -n >"$o.tmp/layer.tgz" || return 1
    ${PYTHON:-/usr/bin/python3} - "$o.tmp" <<'PY' || return 1
import hashlib, json, os, sys, zlib
d = sys.argv[1]; b = os.path.join(d, "blobs", "sha256"); os.makedirs(b)
def put_file(p):
    h = hashlib.sha256(); n = 0
    with open(p, "rb") as f:
        for c in iter(lambda: f.read(1 << 20), b""): h.update(c); n += len(c)
    os.rename(p, os.path.join(b, h.hexdigest())); return "sha256:" + h.hexdigest(), n
def diff_id(p):
    h = hashlib.sha256(); z = zlib.decompressobj(31)
    with open(p, "rb") as f:
        for c in iter(lambda: f.read(1 << 20), b""): h.update(z.decompress(c))
    return "sha256:" + h.hexdigest()
def put(data):
    h = hashlib.sha256(data).hexdigest(); open(os.path.join(b, h), "wb").write(data); return "sha256:" + h, len(data)
lp = os.path.join(d, "layer.tgz"); did = diff_id(lp); ld, ls = put_file(lp)
cd, cs = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [did]}, "config": {}}).encode())
md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}]}).encode())
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "12"}}]}))
PY
    mv "$o.tmp" "$o"
    echo "$o"
}

# rootfs_layer_blob OCI_DIR: path of the (only) layer blob
rootfs_layer_blob() {
    ${PYTHON:-/usr/bin/python3} -c 'import json,sys,os
d=sys.argv[1]; i=json.load(open(os.path.join(d,"index.json")))
m=json.load(open(os.path.join(d,"blobs",*i["manifests"][0]["digest"].split(":"))))
print(os.path.join(d,"blobs",*m["layers"][0]["digest"].split(":")))' "$1"
}
