#!/usr/bin/env python3
"""The final file tree of an OCI image, read independently of bosun.

    oci_tree.py LAYOUT_DIR TAG      one line per path of the image's root

Layers are applied in order with Python's tarfile (names as bytes through
surrogateescape, PAX and GNU forms) and OCI whiteouts (.wh.NAME deletes
NAME, .wh..wh..opq empties the directory of what lower layers put there).
Each line: path, type, mode, uid, gid, size, sha256 of the content, link
target, xattrs; names are shown with every byte that is not printable
UTF-8 as \\xNN, so two trees compare with diff.

This is the one reading of layers the tests have: read_tree() and apply()
are also what tests/lib/treecmp.py compares and extracts. A hard link is
the same entry as its target under a second name (so the names of one file
can be grouped: `e1 is e2`); a hard link to nothing has sha256
"?dangling-hardlink". Extended attributes come from PAX SCHILY.xattr.*
(value as UTF-8 bytes) and LIBARCHIVE.xattr.* (value base64), as hex."""
import base64
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


KINDS = {tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block",
         tarfile.FIFOTYPE: "fifo"}


def drop(tree, p):
    """Remove p and what lies below it; only a path in the tree can have
    anything below it, so the scan is rare."""
    if tree.pop(p, None) is not None:
        for k in [k for k in tree if k.startswith(p + b"/")]:
            del tree[k]


def xattrs_of(m):
    out = {}
    for k, v in (m.pax_headers or {}).items():
        if k.startswith("SCHILY.xattr."):
            out[k[13:]] = os.fsencode(v).hex()
        elif k.startswith("LIBARCHIVE.xattr."):
            out[k[17:]] = base64.b64decode(v + "=" * (-len(v) % 4)).hex()
    return out


def apply(tree, tf, keep=None):
    """Apply one layer (an open tarfile) to tree (path bytes -> entry).
    Without keep every regular file's content is hashed; with keep, only
    the files keep(path) accepts are read, hashed and held in "data" (for
    extracting a part of the tree)."""
    here = set()
    for m in tf:
        p = norm(m.name)
        if not p:
            continue
        base = p.rsplit(b"/", 1)[-1]
        parent = p[: -len(base) - 1] if b"/" in p else b""
        pre = parent + b"/" if parent else b""
        if base == b".wh..wh..opq":
            for k in [k for k in tree if k.startswith(pre) and k != parent and k not in here]:
                del tree[k]
            continue
        if base.startswith(b".wh."):
            drop(tree, pre + base[4:])
            continue
        # a non-directory replaces whatever was there, children included
        if not m.isdir():
            drop(tree, p)
        here.add(p)
        # parents a layer does not list are made as unpacking makes them
        q = p
        while b"/" in q:
            q = q.rsplit(b"/", 1)[0]
            if q in tree:
                break
            tree[q] = {"type": "dir", "mode": "0755", "uid": 0, "gid": 0, "size": 0, "sha256": "", "link": "",
                       "xattrs": {}, "data": None}
        data, link = None, ""
        if m.isreg():
            want = keep is None or keep(p)
            raw = tf.extractfile(m).read() if want else b""
            kind, size, h = "file", m.size, hashlib.sha256(raw).hexdigest() if want else ""
            if keep and want:
                data = raw
        elif m.islnk():
            t = tree.get(norm(m.linkname))
            if t is not None:
                # a hard link shares everything with its target but its name
                tree[p] = t
                continue
            kind, size, h = "file", 0, "?dangling-hardlink"
        else:
            kind, size, h = KINDS.get(m.type, "other"), 0, ""
            if m.issym():
                link = esc(os.fsencode(m.linkname))
            elif m.ischr() or m.isblk():
                link = "%d,%d" % (m.devmajor, m.devminor)
        tree[p] = {"type": kind, "mode": "%04o" % (m.mode & 0o7777), "uid": m.uid, "gid": m.gid,
                   "size": size, "sha256": h, "link": link, "xattrs": xattrs_of(m), "data": data}


def read_tree(layout, tag, keep=None):
    """The final tree of the image tagged tag in an OCI layout (see apply)."""
    tree = {}
    for layer in manifest_for(layout, tag)["layers"]:
        with open_layer(blob(layout, layer["digest"])) as tf:
            apply(tree, tf, keep)
    return tree


def main():
    tree = read_tree(sys.argv[1], sys.argv[2])
    for p in sorted(tree):
        e = tree[p]
        xa = ",".join("%s=%s" % kv for kv in sorted(e["xattrs"].items()))
        print("\t".join([esc(p), e["type"], e["mode"], str(e["uid"]), str(e["gid"]), str(e["size"]),
                         e["sha256"], e["link"], xa]))


if __name__ == "__main__":
    main()
