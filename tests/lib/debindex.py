#!/usr/bin/env python3
"""Assemble a multi-platform OCI image layout from Debian's busybox-static.

    debindex.py [--flat] OUTDIR TAG ARCH=DEB [ARCH=DEB...]

For each ARCH (amd64, arm64, ...) the .deb's /bin/busybox becomes one layer
(bin/busybox and the applet links a RUN step needs), with a config naming
that architecture; the manifests are listed, with their platforms, in one
OCI image index tagged TAG in OUTDIR/index.json (--flat, with one ARCH: the
manifest itself is tagged, no index). Standard library only; the
bytes are fixed (mtime 0, owner 0), so the same .debs give the same digests.
"""
import gzip
import hashlib
import io
import json
import lzma
import os
import sys
import tarfile

APPLETS = ["sh", "uname", "cat", "echo", "mkdir", "ls", "printf", "env", "true", "test", "[", "rm", "cp", "touch"]


def ar_members(data):
    """The members of a Debian ar archive: {name: bytes}."""
    if not data.startswith(b"!<arch>\n"):
        raise SystemExit("not an ar archive")
    pos, out = 8, {}
    while pos + 60 <= len(data):
        hdr = data[pos:pos + 60]
        name = hdr[0:16].decode().strip().rstrip("/")
        size = int(hdr[48:58].decode().strip())
        out[name] = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)
    return out


def busybox_of(deb):
    members = ar_members(open(deb, "rb").read())
    for name, blob in members.items():
        if name.startswith("data.tar"):
            if name.endswith(".xz"):
                blob = lzma.decompress(blob)
            elif name.endswith(".gz"):
                blob = gzip.decompress(blob)
            elif name.endswith(".zst"):
                raise SystemExit("zstd data.tar: not supported")
            with tarfile.open(fileobj=io.BytesIO(blob)) as t:
                for m in t.getmembers():
                    if m.name.lstrip("./") == "bin/busybox":
                        return t.extractfile(m).read()
    raise SystemExit(f"{deb}: no bin/busybox")


def info(name, **kw):
    ti = tarfile.TarInfo(name)
    ti.mtime = 0
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def layer_of(busybox):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for d, mode in (("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777)):
            t.addfile(info(d, type=tarfile.DIRTYPE, mode=mode))
        t.addfile(info("bin/busybox", size=len(busybox), mode=0o755), io.BytesIO(busybox))
        for a in APPLETS:
            t.addfile(info("bin/" + a, type=tarfile.SYMTYPE, linkname="busybox", mode=0o777))
        for name, body in (("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"), ("etc/group", b"root:x:0:\n")):
            t.addfile(info(name, size=len(body), mode=0o644), io.BytesIO(body))
    tar = raw.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(tar)
    return tar, gz.getvalue()


class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(root, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def put(self, data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.root, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return "sha256:" + d, len(data)


def dumps(o):
    return json.dumps(o, separators=(",", ":"), sort_keys=True).encode()


def main():
    args = sys.argv[1:]
    flat = args[:1] == ["--flat"]
    args = args[1:] if flat else args
    if len(args) < 3 or (flat and len(args) != 3):
        raise SystemExit(__doc__)
    out, tag, pairs = args[0], args[1], args[2:]
    lay = Layout(out)
    entries = []
    for pair in pairs:
        arch, deb = pair.split("=", 1)
        tar, gz = layer_of(busybox_of(deb))
        ld, ls = lay.put(gz)
        cfg = {
            "architecture": arch,
            "os": "linux",
            "created": "1970-01-01T00:00:00Z",
            "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "debindex.py busybox-static " + arch}],
        }
        cd, cs = lay.put(dumps(cfg))
        man = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}],
        }
        md, ms = lay.put(dumps(man))
        entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
                        "platform": {"architecture": arch, "os": "linux"}})
    if flat:
        top = dict(entries[0])
        del top["platform"]
        top["annotations"] = {"org.opencontainers.image.ref.name": tag}
        with open(os.path.join(out, "index.json"), "wb") as f:
            f.write(dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                           "manifests": [top]}))
        print(top["digest"])
        return
    idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
    idd, ids = lay.put(dumps(idx))
    top = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
           "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": idd, "size": ids,
                          "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(out, "index.json"), "wb") as f:
        f.write(dumps(top))
    print(idd)


if __name__ == "__main__":
    main()
