#!/usr/bin/env python3
"""Compare the final root file trees of two OCI images, read independently
of bosun (tests/lib/oci_tree.py reads them: Python's tarfile, layers
applied in order with OCI whiteouts; here the hard-link groups are added).

    treecmp.py diff [--volatile FILE] [--tree-a FILE] LAYOUT_A TAG_A LAYOUT_B TAG_B
        prints every difference, one a line; exit 1 when one is not excused
        by the volatile list, 0 otherwise; --tree-a also writes A's tree
        as `tree` prints it
    treecmp.py tree LAYOUT TAG
        prints the tree, one path a line (the fields compared)
    treecmp.py extract LAYOUT TAG PREFIX DEST
        writes the directories, regular files and symlinks under PREFIX
        (e.g. var/lib/dpkg) of the final tree into DEST, for tools that
        read a root (dpkg-query --admindir)

Compared per path (bytes): type, mode (permission and setuid/setgid/sticky
bits), uid, gid, size, sha256 of the content, symlink target or device
numbers, extended attributes (name and value bytes, from PAX
SCHILY.xattr.* and LIBARCHIVE.xattr.*), and for a file with several names
the set of its other names (a hard link in one image and a copy in the
other is a difference). Modification times are not compared: two builds at
different times differ there by design.

The volatile list has one fnmatch pattern a line (matched against the path
without a leading slash; '#' starts a comment): a path that matches is
still compared, and a difference there is printed as excused."""
import fnmatch
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oci_tree import esc, norm, read_tree  # noqa: E402


def fields(tree):
    """path -> tuple of the compared fields, hard-link groups resolved."""
    groups = {}
    for p, e in tree.items():
        groups.setdefault(id(e), []).append(p)
    out = {}
    for p, e in tree.items():
        others = sorted(q for q in groups[id(e)] if q != p)
        out[p] = {"type": e["type"], "mode": e["mode"], "uid": e["uid"], "gid": e["gid"], "size": e["size"],
                  "sha256": e["sha256"], "link": e["link"],
                  "xattrs": ",".join("%s=%s" % kv for kv in sorted(e["xattrs"].items())),
                  "hardlinks": ",".join(esc(q) for q in others)}
    return out


def show(v):
    return "-" if v == "" else str(v)


def load_volatile(path):
    pats = []
    if path:
        for line in open(path, encoding="utf-8"):
            line = line.split("#", 1)[0].strip()
            if line:
                pats.append(line)
    return pats


def cmd_diff(args):
    vol = save = None
    while args[:1] in (["--volatile"], ["--tree-a"]):
        if args[0] == "--volatile":
            vol = args[1]
        else:
            save = args[1]
        args = args[2:]
    pats = load_volatile(vol)
    a = fields(read_tree(args[0], args[1]))
    b = fields(read_tree(args[2], args[3]))
    if save:
        with open(save, "w", encoding="utf-8") as f:
            for p, v in sorted(a.items()):
                f.write("\t".join([esc(p)] + [str(x) for x in v.values()]) + "\n")
    bad = excused = 0
    for p in sorted(set(a) | set(b)):
        name = esc(p)
        s = p.decode("utf-8", "surrogateescape")
        why = next((x for x in pats if fnmatch.fnmatchcase(s, x)), None)
        if p not in b:
            msg = "only in A: /%s (%s)" % (name, a[p]["type"])
        elif p not in a:
            msg = "only in B: /%s (%s)" % (name, b[p]["type"])
        else:
            d = ["%s %s vs %s" % (k, show(a[p][k]), show(b[p][k])) for k in a[p] if a[p][k] != b[p][k]]
            if not d:
                continue
            msg = "differs: /%s: %s" % (name, "; ".join(d))
        if why:
            excused += 1
            print("excused (volatile %s): %s" % (why, msg))
        else:
            bad += 1
            print(msg)
    print("# %d paths in A, %d in B; %d differences, %d excused as volatile" % (len(a), len(b), bad, excused))
    return 1 if bad else 0


def cmd_tree(args):
    for p, f in sorted(fields(read_tree(args[0], args[1])).items()):
        print("\t".join([esc(p)] + [str(v) for v in f.values()]))
    return 0


def cmd_extract(args):
    layout, tag, prefix, dest = args
    pre = norm(prefix)

    def keep(p):
        return p == pre or p.startswith(pre + b"/")
    tree = read_tree(layout, tag, keep)
    for p in sorted(tree):
        if not keep(p):
            continue
        e, target = tree[p], os.path.join(os.fsencode(dest), p)
        if e["type"] == "dir":
            os.makedirs(target, exist_ok=True)
        elif e["type"] == "file" and e["data"] is not None:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(e["data"])
        elif e["type"] == "symlink":
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(os.fsencode(e["link"]), target)
    return 0


def main():
    cmds = {"diff": cmd_diff, "tree": cmd_tree, "extract": cmd_extract}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
