#!/usr/bin/env python3
"""The final file tree of an OCI image, read independently of bosun.

    oci_tree.py LAYOUT_DIR TAG      one line per path of the image's root

Layers are applied in order with Python's tarfile (names as bytes through
surrogateescape, PAX and GNU forms) and OCI whiteouts (.wh.NAME deletes
NAME, .wh..wh..opq empties the directory of what lower layers put there).
Each line: path, type, mode, uid, gid, size, sha256 of the content, link
target, xattrs; names are shown with every byte that is not printable
UTF-8 as \\xNN, so two trees compare with diff."""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def esc(b):
    s = b.decode("utf-8", "surrogateescape")
    out = []
    for ch in s:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append("\\x%02x" % (o - 0xDC00))
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    return "".join(out)


def norm(name):
    b = os.fsencode(name)
    parts = [p for p in b.split(b"/") if p not in (b"", b".")]
    return b"/".join(parts)


def blob(layout, digest):
    return os.path.join(layout, "blobs", *digest.split(":", 1))


def manifest_for(layout, tag):
    idx = json.load(open(os.path.join(layout, "index.json")))
    for m in idx["manifests"]:
        ann = m.get("annotations") or {}
        if ann.get("org.opencontainers.image.ref.name") == tag or m["digest"] == tag:
            return json.load(open(blob(layout, m["digest"])))
    raise SystemExit("no manifest tagged %s in %s" % (tag, layout))


def open_layer(path):
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] == b"\x1f\x8b":
        return tarfile.open(fileobj=gzip.open(path), mode="r|", encoding="utf-8", errors="surrogateescape")
    if head == b"\x28\xb5\x2f\xfd":
        import subprocess
        data = subprocess.run(["zstd", "-dc", path], check=True, stdout=subprocess.PIPE).stdout
        return tarfile.open(fileobj=io.BytesIO(data), mode="r|", encoding="utf-8", errors="surrogateescape")
    return tarfile.open(path, mode="r|", encoding="utf-8", errors="surrogateescape")


def apply(tree, tf):
    here = set()
    for m in tf:
        p = norm(m.name)
        if not p:
            continue
        base = p.rsplit(b"/", 1)[-1]
        parent = p[: -len(base) - 1] if b"/" in p else b""
        if base == b".wh..wh..opq":
            pre = parent + b"/" if parent else b""
            for k in [k for k in tree if k.startswith(pre) and k != parent and k not in here]:
                del tree[k]
            continue
        if base.startswith(b".wh."):
            gone = (parent + b"/" if parent else b"") + base[4:]
            for k in [k for k in tree if k == gone or k.startswith(gone + b"/")]:
                del tree[k]
            continue
        # a non-directory replaces whatever was there, children included
        if not m.isdir():
            for k in [k for k in tree if k.startswith(p + b"/")]:
                del tree[k]
        here.add(p)
        # parents a layer does not list are made as unpacking makes them
        q = p
        while b"/" in q:
            q = q.rsplit(b"/", 1)[0]
            if q in tree:
                break
            tree[q] = {"type": "dir", "mode": "0755", "uid": 0, "gid": 0, "size": 0, "sha256": "", "link": "",
                       "xattrs": {}}
        xattrs = {}
        for k, v in (m.pax_headers or {}).items():
            if k.startswith("SCHILY.xattr."):
                xattrs[k[13:]] = os.fsencode(v).hex()
        if m.isreg():
            h = hashlib.sha256(tf.extractfile(m).read()).hexdigest()
            kind, size, link = "file", m.size, ""
        elif m.islnk():
            # a hard link has the content of its target
            t = tree.get(norm(m.linkname))
            kind, size, link, h = "file", t["size"] if t else 0, "", t["sha256"] if t else "?"
        else:
            kind = {tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.CHRTYPE: "char",
                    tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}.get(m.type, "other")
            size, h = 0, ""
            link = esc(os.fsencode(m.linkname)) if m.issym() else ""
            if m.ischr() or m.isblk():
                link = "%d,%d" % (m.devmajor, m.devminor)
        tree[p] = {"type": kind, "mode": "%04o" % (m.mode & 0o7777), "uid": m.uid, "gid": m.gid,
                   "size": size, "sha256": h, "link": link, "xattrs": xattrs}


def main():
    layout, tag = sys.argv[1], sys.argv[2]
    man = manifest_for(layout, tag)
    tree = {}
    for l in man["layers"]:
        with open_layer(blob(layout, l["digest"])) as tf:
            apply(tree, tf)
    for p in sorted(tree):
        e = tree[p]
        xa = ",".join("%s=%s" % kv for kv in sorted(e["xattrs"].items()))
        print("\t".join([esc(p), e["type"], e["mode"], str(e["uid"]), str(e["gid"]), str(e["size"]),
                         e["sha256"], e["link"], xa]))


if __name__ == "__main__":
    main()
