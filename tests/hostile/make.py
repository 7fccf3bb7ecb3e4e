#!/usr/bin/python3
"""Generate the hostile corpus into OUT (nothing binary is committed).

usage: make.py OUT BASE_LAYOUT
BASE_LAYOUT is a busybox OCI layout (tests/lib/images.sh make_busybox_oci);
each tar case becomes OUT/img-NAME, that image plus one crafted layer, so
`bosun build` (FROM it, RUN true) unpacks it and `bosun scan` reads it.
Writes OUT/cases.tsv: NAME KIND PATH EXPECTED_EXIT MESSAGE_REGEX
KIND: layer (build+scan), image (copy+inspect), dockerfile (build),
bomb-one / bomb-many (scan, then build under BOSUN_MAX_LAYER_SIZE),
osv (db build), key (verify --key).
"""
import gzip, hashlib, io, json, os, shutil, struct, sys, tarfile, zipfile, zlib

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

# gzip bombs: GZ_BOMB_MB MiB of zeros (default 10240, 10 GiB) behind about
# 10 MB of gzip. Written without compressing 10 GiB: a raw deflate stream is
# cut into segments ended by Z_FULL_FLUSH (byte aligned, no reference to
# what came before), so the segment for one 1 MiB block of zeros is computed
# once and repeated; the gzip trailer's CRC-32 comes from CRC algebra (the
# CRC of A||B from the CRCs of A and B), not from hashing 10 GiB.
mb = int(os.environ.get("GZ_BOMB_MB", "10240"))
ZERO_MB = bytes(1 << 20)


def gf2_times(mat, vec):
    s, i = 0, 0
    while vec:
        if vec & 1:
            s ^= mat[i]
        vec >>= 1
        i += 1
    return s


def zeros_operator(n):
    """The linear map taking crc32(A) to the CRC register after n more zero bytes."""
    op = [0xEDB88320] + [1 << k for k in range(31)]  # one zero bit
    for _ in range(3):  # 2, 4, 8 bits: one byte
        op = [gf2_times(op, op[k]) for k in range(32)]
    res = [1 << k for k in range(32)]  # identity
    while n:
        if n & 1:
            res = [gf2_times(op, res[k]) for k in range(32)]
        op = [gf2_times(op, op[k]) for k in range(32)]
        n >>= 1
    return res


MB_OP, MB_CRC = zeros_operator(1 << 20), zlib.crc32(ZERO_MB)


class Bomb:
    """A gzip member written as flushed deflate segments, CRC kept by algebra."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.sha = hashlib.sha256()
        self.c = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.crc, self.size = 0, 0
        self.put(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        seg = self.c.compress(ZERO_MB) + self.c.flush(zlib.Z_FULL_FLUSH)
        again = self.c.compress(ZERO_MB) + self.c.flush(zlib.Z_FULL_FLUSH)
        assert seg == again  # a flushed segment does not depend on the past
        self.zero_seg = seg

    def put(self, b):
        self.f.write(b)
        self.sha.update(b)

    def data(self, b):
        self.put(self.c.compress(b) + self.c.flush(zlib.Z_FULL_FLUSH))
        self.crc = zlib.crc32(b, self.crc)
        self.size += len(b)

    def zero_mb(self):
        self.put(self.zero_seg)
        self.crc = gf2_times(MB_OP, self.crc) ^ MB_CRC
        self.size += 1 << 20

    def close(self):
        self.put(self.c.compress(bytes(1024)) + self.c.flush(zlib.Z_FINISH))  # tar end
        self.crc = zlib.crc32(bytes(1024), self.crc)
        self.size += 1024
        self.put(struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
        n = self.f.tell()
        self.f.close()
        return self.sha.hexdigest(), n


def bomb_image(name, fill):
    lay = os.path.join(out, "img-" + name)
    shutil.copytree(base, lay)
    tmp = os.path.join(lay, "blobs", "sha256", "bomb.tmp")
    bm = Bomb(tmp)
    fill(bm)
    ld, size = bm.close()
    os.rename(tmp, os.path.join(lay, "blobs", "sha256", ld))
    m, c = base_image(lay)
    m["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": "sha256:" + ld, "size": size})
    c["rootfs"]["diff_ids"].append("sha256:" + "0" * 64)
    cb = json.dumps(c).encode()
    m["config"]["digest"], m["config"]["size"] = "sha256:" + put_blob(lay, cb), len(cb)
    mbytes = json.dumps(m).encode()
    set_tag(lay, put_blob(lay, mbytes), len(mbytes))
    return size


def one_file(bm):
    # one member of mb MiB: its header states the size (PAX, over ustar's 8 GiB)
    h = tarfile.TarInfo("hostile-zeros")
    h.size, h.mtime = mb << 20, 0
    bm.data(h.tobuf(tarfile.PAX_FORMAT))
    for _ in range(mb):
        bm.zero_mb()


def many_files(bm):
    # mb members of 1 MiB each: every header is under any limit, only the
    # running total of inflated bytes can stop it
    for i in range(mb):
        h = tarfile.TarInfo("z/hostile-%05d" % i)
        h.size, h.mtime = 1 << 20, 0
        bm.data(h.tobuf(tarfile.USTAR_FORMAT))
        bm.zero_mb()


gsz = "%dg" % (mb >> 10) if mb >= 1024 else "%dm" % mb
bomb_image("gzbomb-one", one_file)
case("gzbomb-%s-one-file" % gsz, "bomb-one", "img-gzbomb-one", 3, "expands to more than")
bomb_image("gzbomb-many", many_files)
case("gzbomb-%s-many-files" % gsz, "bomb-many", "img-gzbomb-many", 3, "expands to more than 64 MiB")

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
n = int(os.environ.get("OSV_ENTRIES", "1000000"))


def write_zip_stored(path, count, name_of, data_of):
    """A stored (uncompressed) zip of count entries, ZIP64 end records when
    count does not fit in 16 bits; zipfile takes ~25 s for a million."""
    parts, cdir, off = [], [], 0
    for i in range(count):
        nm, d = name_of(i), data_of(i)
        crc = zlib.crc32(d)
        lh = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, crc, len(d), len(d), len(nm), 0)
        cdir.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, crc, len(d), len(d),
                                len(nm), 0, 0, 0, 0, 0, off) + nm)
        parts += [lh, nm, d]
        off += len(lh) + len(nm) + len(d)
    cd = b"".join(cdir)
    tail = b""
    if count > 0xFFFF:
        tail = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(cd), off)
        tail += struct.pack("<IIQI", 0x07064B50, 0, off + len(cd), 1)
    tail += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF), len(cd), off, 0)
    with open(path, "wb") as f:
        f.write(b"".join(parts))
        f.write(cd)
        f.write(tail)


write_zip_stored(os.path.join(out, "osv-many.zip"), n, lambda i: b"r%d.json" % i,
                 lambda i: b'{"id":"HOSTILE-%d","modified":"2024-01-01T00:00:00Z"}' % i)
case("osv-zip-%dk-entries" % (n // 1000), "osv", "osv-many.zip", 0, r": %d records \(0 withdrawn dropped, 0 rejected\)" % n)
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
