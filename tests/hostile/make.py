#!/usr/bin/python3
"""Generate the hostile corpus into OUT (nothing binary is committed).

usage: make.py OUT BASE_LAYOUT
BASE_LAYOUT is a busybox OCI layout (tests/lib/images.sh make_busybox_oci);
each tar case becomes OUT/img-NAME, that image plus one crafted layer, so
`bosun build` (FROM it, RUN true) unpacks it and `bosun scan` reads it.
Writes OUT/cases.tsv: NAME KIND PATH EXPECTED_EXIT MESSAGE_REGEX
KIND: layer (build+scan), image (copy+inspect), dockerfile (build),
osv (db build), key (verify --key).
"""
import gzip, hashlib, io, json, os, shutil, sys, tarfile, zipfile, zlib

out, base = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
cases = []


def case(name, kind, path, code, msg):
    cases.append((name, kind, path, str(code), msg))


def sha(b):
    return hashlib.sha256(b).hexdigest()


def put_blob(lay, b):
    d = sha(b)
    with open(os.path.join(lay, "blobs", "sha256", d), "wb") as f:
        f.write(b)
    return d


def set_tag(lay, mdig, msize, tag="t"):
    idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
           "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "digest": "sha256:" + mdig, "size": msize,
                          "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(lay, "index.json"), "w") as f:
        json.dump(idx, f)


def base_image(lay):
    idx = json.load(open(os.path.join(lay, "index.json")))
    md = idx["manifests"][0]["digest"].split(":")[1]
    m = json.load(open(os.path.join(lay, "blobs", "sha256", md)))
    c = json.load(open(os.path.join(lay, "blobs", "sha256", m["config"]["digest"].split(":")[1])))
    return m, c


def image_with_layer(name, tar_bytes, gz=True, diff=None):
    lay = os.path.join(out, "img-" + name)
    shutil.copytree(base, lay)
    m, c = base_image(lay)
    blob = gzip.compress(tar_bytes, mtime=0) if gz else tar_bytes
    ld = put_blob(lay, blob)
    m["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else ""),
                        "digest": "sha256:" + ld, "size": len(blob)})
    c["rootfs"]["diff_ids"].append(diff or "sha256:" + sha(tar_bytes))
    c["history"].append({"created_by": "hostile " + name})
    cb = json.dumps(c).encode()
    m["config"]["digest"], m["config"]["size"] = "sha256:" + put_blob(lay, cb), len(cb)
    mb = json.dumps(m).encode()
    set_tag(lay, put_blob(lay, mb), len(mb))
    return lay


def tar_of(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            name, typ = e[0], e[1]
            ti = tarfile.TarInfo(name)
            ti.type = typ
            ti.mode = e[3] if len(e) > 3 else 0o644
            data = None
            if typ in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                ti.linkname = e[2]
            elif typ == tarfile.CHRTYPE:
                ti.devmajor, ti.devminor = 1, 3
            elif typ == tarfile.REGTYPE:
                data = e[2] if len(e) > 2 else b"hostile\n"
                ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return b.getvalue()


R, D, S, H = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
# name: (entries, expected exit of build, message regex). scan reads layers
# without unpacking and is expected to succeed (exit 0) on all of them
# except where the layer itself is unreadable (tarjunk).
layers = {
    "dotdot": ([("../hostile-escape", R)], 3, r"\.\."),
    "dotdot-mid": ([("a/../../hostile-escape", R)], 3, r"\.\."),
    "absolute": ([("/hostile-abs", R)], 0, ""),
    "symlink-etc-then-file": ([("esc", S, "/etc"), ("esc/hostile-passwd", R)], 0, ""),
    "symlink-up-then-file": ([("up", S, "../../../../../../tmp"), ("up/hostile-tmp", R)], 0, ""),
    "symlink-loop": ([("la", S, "lb"), ("lb", S, "la"), ("la/x", R)], 3, ""),
    "hardlink-outside": ([("h", H, "../../../../etc/passwd")], 3, r"\.\."),
    "hardlink-absolute": ([("h", H, "/etc/passwd")], 0, ""),
    "hardlink-via-symlink": ([("esc", S, "/etc"), ("h", H, "esc/shadow")], 3, ""),
    "whiteout-dotdot": ([("a/.wh...", R, b"")], 3, "whiteout"),
    "whiteout-dotdot-top": ([(".wh...", R, b"")], 3, "whiteout"),
    "whiteout-dot": ([("a/.wh..", R, b"")], 3, "whiteout"),
    "whiteout-dotdot-dir": ([("../.wh.etc", R, b"")], 3, r"\.\."),
    "whiteout-through-symlink": ([("esc", S, "/etc"), ("esc/.wh.passwd", R, b"")], 0, ""),
    "device-node": ([("dev/hostile-null", tarfile.CHRTYPE)], 0, ""),
    "fifo": ([("hostile-fifo", tarfile.FIFOTYPE)], 0, ""),
    "setuid": ([("hostile-suid", R, b"#!/bin/sh\n", 0o4755), ("hostile-sgid", R, b"x", 0o2755)], 0, ""),
    "deep-nesting": ([("/".join(["d"] * 2100) + "/f", R)], 3, ""),
    "newline-name": ([("bad\nname", R)], 0, ""),
    "invalid-utf8-name": ([("bad\udcff\udcfename", R)], 0, ""),
    "long-component": ([("x" * 300, R)], 3, "over 255 bytes"),
    "file-then-dir": ([("fd", R), ("fd/x", R)], 3, "Not a directory"),
}
for name, (ents, code, msg) in layers.items():
    image_with_layer(name, tar_of(ents))
    case(name, "layer", "img-" + name, code, msg)

# Not a tar at all, and a zero-byte layer.
image_with_layer("tarjunk", b"this is not a tar archive" * 50, gz=True)
case("tarjunk", "layer", "img-tarjunk", 3, "")

# gzip bomb: GZ_BOMB_MB of zeros (default 1024) in one file, a ~1000:1 ratio.
mb = int(os.environ.get("GZ_BOMB_MB", "1024"))
bomb = io.BytesIO()
z = zlib.compressobj(9, zlib.DEFLATED, 31)
hdr = tarfile.TarInfo("zeros")
hdr.size = mb << 20
bomb.write(z.compress(hdr.tobuf(tarfile.USTAR_FORMAT)))
chunk = bytes(1 << 20)
for _ in range(mb):
    bomb.write(z.compress(chunk))
bomb.write(z.compress(bytes(1024)))
bomb.write(z.flush())
lay = os.path.join(out, "img-gzbomb")
shutil.copytree(base, lay)
m, c = base_image(lay)
bb = bomb.getvalue()
ld = put_blob(lay, bb)
m["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + ld, "size": len(bb)})
c["rootfs"]["diff_ids"].append("sha256:" + "0" * 64)
cb = json.dumps(c).encode()
m["config"]["digest"], m["config"]["size"] = "sha256:" + put_blob(lay, cb), len(cb)
mbytes = json.dumps(m).encode()
set_tag(lay, put_blob(lay, mbytes), len(mbytes))
case("gzbomb", "scanonly", "img-gzbomb", 0, "")

# ---- manifests and indexes (copy oci: -> oci:, inspect)
def raw_layout(name):
    lay = os.path.join(out, "img-" + name)
    shutil.copytree(base, lay)
    return lay


# A manifest that lists itself as its config and layer: its blob is stored
# under a digest its content cannot have.
lay = raw_layout("self-ref")
fake = "ab" * 32
body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "config": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + fake, "size": 300},
                   "layers": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + fake, "size": 300}]}).encode()
open(os.path.join(lay, "blobs/sha256", fake), "wb").write(body)
set_tag(lay, fake, len(body))
case("manifest-self-ref", "image", "img-self-ref", 3, "digest|size")

# Index loop: A lists B, B lists A (stored under digests they cannot have).
lay = raw_layout("index-loop")
da, db_ = "aa" * 32, "bb" * 32
for me, other in ((da, db_), (db_, da)):
    b = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + other, "size": 200}]}).encode()
    b = b + b" " * (200 - len(b))
    open(os.path.join(lay, "blobs/sha256", me), "wb").write(b)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + da, "size": 200,
                                              "annotations": {"org.opencontainers.image.ref.name": "t"}}]},
          open(os.path.join(lay, "index.json"), "w"))
case("index-loop", "image", "img-index-loop", 3, "")

# 100 MB manifest, correctly addressed.
lay = raw_layout("huge-manifest")
m, _ = base_image(lay)
m["annotations"] = {"pad": "x" * (100 << 20)}
mb_ = json.dumps(m).encode()
set_tag(lay, put_blob(lay, mb_), len(mb_))
case("manifest-100mb", "image", "img-huge-manifest", 3, "large|limit|exceed")

# A layer digest that is a path.
lay = raw_layout("digest-path")
m, _ = base_image(lay)
m["layers"][0]["digest"] = "sha256:../../../../../../etc/passwd"
mb_ = json.dumps(m).encode()
set_tag(lay, put_blob(lay, mb_), len(mb_))
case("digest-is-path", "image", "img-digest-path", 3, "digest")

# Manifest that is not JSON, and one with a negative size.
lay = raw_layout("not-json")
nb = b"\x00\xff{{{ not json"
set_tag(lay, put_blob(lay, nb), len(nb))
case("manifest-not-json", "image", "img-not-json", 3, "")
lay = raw_layout("neg-size")
m, _ = base_image(lay)
m["layers"][0]["size"] = -5
mb_ = json.dumps(m).encode()
set_tag(lay, put_blob(lay, mb_), len(mb_))
case("descriptor-negative-size", "image", "img-neg-size", 3, "size")

# ---- Dockerfiles
os.makedirs(os.path.join(out, "df-longline"), exist_ok=True)
open(os.path.join(out, "df-longline/Dockerfile"), "w").write("FROM scratch\nLABEL x=" + "A" * (1 << 20) + "\n")
case("dockerfile-1mb-line", "dockerfile", "df-longline", 0, "")
os.makedirs(os.path.join(out, "df-nul"), exist_ok=True)
open(os.path.join(out, "df-nul/Dockerfile"), "wb").write(b"FROM scratch\nLABEL a=\x00b\n")
case("dockerfile-nul", "dockerfile", "df-nul", 3, "")
os.makedirs(os.path.join(out, "df-manyvars"), exist_ok=True)
open(os.path.join(out, "df-manyvars/Dockerfile"), "w").write("FROM scratch\nARG A=" + "$A$A" * 10 + "\nENV B=${A}${A}${A}\n")
case("dockerfile-var-expansion", "dockerfile", "df-manyvars", 0, "")

# ---- OSV feeds
n = int(os.environ.get("OSV_ENTRIES", "200000"))
with zipfile.ZipFile(os.path.join(out, "osv-many.zip"), "w", zipfile.ZIP_STORED) as zf:
    rec = b'{"id":"X","modified":"2024-01-01T00:00:00Z"}'
    for i in range(n):
        zf.writestr("r%d.json" % i, rec)
case("osv-zip-%dk-entries" % (n // 1000), "osv", "osv-many.zip", 0, "")
with zipfile.ZipFile(os.path.join(out, "osv-bomb.zip"), "w", zipfile.ZIP_DEFLATED) as zf:
    zf.writestr("big.json", b'{"id":"' + b"A" * (64 << 20) + b'"}')
case("osv-zip-64mb-record", "osv", "osv-bomb.zip", 0, "")
with zipfile.ZipFile(os.path.join(out, "osv-traversal.zip"), "w") as zf:
    zf.writestr("../../../../tmp/hostile-osv.json", b'{"id":"T-1","modified":"2024-01-01T00:00:00Z","affected":[]}')
    zf.writestr("/abs.json", b'{"id":"T-2"}')
case("osv-zip-traversal-names", "osv", "osv-traversal.zip", 0, "")
open(os.path.join(out, "osv-notzip.zip"), "wb").write(b"PK\x03\x04" + b"\xff" * 100)
case("osv-not-a-zip", "osv", "osv-notzip.zip", 3, "")

# ---- keys
keys = {
    "key-garbage-pem": b"-----BEGIN PUBLIC KEY-----\n!!!notbase64!!!\n-----END PUBLIC KEY-----\n",
    "key-empty": b"",
    "key-truncated": b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n",
    "key-huge": b"-----BEGIN PUBLIC KEY-----\n" + b"QUFB" * (4 << 20) + b"\n-----END PUBLIC KEY-----\n",
    "key-binary": bytes(range(256)) * 10,
}
for k, v in keys.items():
    open(os.path.join(out, k + ".pub"), "wb").write(v)
    case(k, "key", k + ".pub", 3, "key")

with open(os.path.join(out, "cases.tsv"), "w") as f:
    for c in cases:
        f.write("\t".join(c) + "\n")
print(len(cases), "cases")
