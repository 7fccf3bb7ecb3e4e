#!/usr/bin/env python3
"""Compare bosun's package inventory of an image with Trivy's and dpkg's.

    invcmp.py IMAGE BOSUN_CDX TRIVY_CDX DPKG_TXT EXCEPTIONS [TABLE_OUT]

BOSUN_CDX and TRIVY_CDX are CycloneDX documents (`bosun scan --format
cyclonedx`, `trivy image --format cyclonedx`); DPKG_TXT is
`dpkg-query --admindir=ROOT/var/lib/dpkg -W -f '${db:Status-Abbrev}|${Package}|${Version}\\n'`.
Packages are compared by purl type, name and version (deb: binary
package name and EPOCH:VERSION from the epoch qualifier; pypi: the PEP 503
normalised name; npm: @scope/name; golang: the module path; maven:
group:artifact). Qualifiers other than the epoch (arch, distro) and
subpaths are not compared.

Prints one table row per ecosystem (trivy / bosun / missing / extra, and
for deb the dpkg-query count too) and every missing package. A package
Trivy or dpkg-query lists and bosun does not is missing; it fails the
comparison (exit 1) unless EXCEPTIONS has a line `IMAGE TYPE NAME@VERSION`
for it (`*` matches any image, any version after `@`). Extra packages
(bosun lists, Trivy does not) are printed and do not fail. TABLE_OUT gets
the table rows (tab-separated) for a summary."""
import fnmatch
import json
import re
import sys
import urllib.parse

TYPES = ["deb", "pypi", "npm", "golang", "maven"]


def parse_purl(p):
    if not p or not p.startswith("pkg:"):
        return None
    rest = p[4:].split("#", 1)[0]
    rest, _, q = rest.partition("?")
    quals = dict(urllib.parse.parse_qsl(q))
    typ, _, path = rest.partition("/")
    path, _, ver = path.rpartition("@") if "@" in path.lstrip("@") else (path, "", "")
    parts = [urllib.parse.unquote(x) for x in path.split("/") if x]
    ver = urllib.parse.unquote(ver)
    typ = typ.lower()
    if typ == "deb":
        name = parts[-1]
        if quals.get("epoch") and quals["epoch"] != "0":
            ver = quals["epoch"] + ":" + ver
    elif typ == "pypi":
        name = re.sub(r"[-_.]+", "-", parts[-1]).lower()
    elif typ == "maven":
        name = ":".join(parts[-2:]) if len(parts) > 1 else parts[-1]
    else:
        name = "/".join(parts)
    return typ, name, ver


def components(doc):
    out = []

    def walk(cs):
        for c in cs or []:
            out.append(c)
            walk(c.get("components"))
    walk(doc.get("components"))
    return out


def inventory(path):
    s = set()
    for c in components(json.load(open(path, encoding="utf-8"))):
        k = parse_purl(c.get("purl"))
        if k and k[0] in TYPES:
            s.add(k)
    return s


def main():
    image, bcdx, tcdx, dpkg, exc = sys.argv[1:6]
    table_out = sys.argv[6] if len(sys.argv) > 6 else None
    bosun, trivy = inventory(bcdx), inventory(tcdx)
    dp = set()
    for line in open(dpkg, encoding="utf-8", errors="surrogateescape"):
        st, _, rest = line.rstrip("\n").partition("|")
        if st.startswith("ii"):
            n, _, v = rest.partition("|")
            dp.add(("deb", n, v))
    excs = []
    for line in open(exc, encoding="utf-8"):
        line = line.split("#", 1)[0].split()
        if len(line) >= 3:
            excs.append(tuple(line[:3]))

    def excused(k):
        for im, typ, nv in excs:
            n, _, v = nv.rpartition("@")
            if fnmatch.fnmatchcase(image, im) and typ == k[0] and n == k[1] and fnmatch.fnmatchcase(k[2], v):
                return True
        return False

    bad = 0
    rows = []
    print("%-8s %-8s %6s %6s %6s %8s %6s" % ("image", "type", "trivy", "bosun", "dpkg", "missing", "extra"))
    for t in TYPES:
        b = {k for k in bosun if k[0] == t}
        tr = {k for k in trivy if k[0] == t}
        want = tr | ({k for k in dp} if t == "deb" else set())
        missing = sorted(want - b)
        extra = sorted(b - want)
        if not (b or tr or missing):
            continue
        nd = str(len(dp)) if t == "deb" else "-"
        print("%-8s %-8s %6d %6d %6s %8d %6d" % (image, t, len(tr), len(b), nd, len(missing), len(extra)))
        rows.append("\t".join([image, t, str(len(tr)), str(len(b)), nd, str(len(missing)), str(len(extra))]))
        for k in missing:
            src = "+".join(x for x, s in (("trivy", tr), ("dpkg", dp)) if k in s)
            if excused(k):
                print("  missing (excepted): %s %s@%s (in %s)" % (k + (src,)))
            else:
                bad += 1
                print("  MISSING: %s %s@%s (in %s)" % (k + (src,)))
        for k in extra:
            print("  extra: %s %s@%s" % k)
    if table_out:
        with open(table_out, "a") as f:
            f.write("\n".join(rows) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
