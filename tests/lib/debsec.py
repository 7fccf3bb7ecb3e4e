#!/usr/bin/env python3
"""Real vulnerability data for a Debian image, made from the Debian archive.

    debsec.py STATUS OUTDIR [PROXY]

STATUS is the image's var/lib/dpkg/status. With a private apt configuration
under OUTDIR (the machine's own sources, state and architecture are not
touched), against bookworm and bookworm-security:

  - `apt-get -s upgrade` lists the packages bookworm-security has newer
    versions of;
  - `apt-get download` fetches each of those .debs;
  - the top entry of each source package's changelog.Debian.gz (in the .deb)
    names the CVEs the security version fixes;
  - every CVE becomes an OSV record (ecosystem Debian:12, the source
    package, fixed = the security version of the source) in OUTDIR/osv/.

OUTDIR/expected.tsv: one line per upgraded binary package: name, installed
version, security version, source, its CVEs (comma-separated, may be empty).
PROXY (http://127.0.0.1:PORT) is used for the archive when given.
Standard library, apt-get and dpkg-deb only."""
import gzip
import io
import json
import os
import re
import subprocess
import sys
import tarfile

status, out = sys.argv[1], sys.argv[2]
proxy = sys.argv[3] if len(sys.argv) > 3 else ""
apt = os.path.join(out, "apt")
for d in ("lists/partial", "cache/archives/partial", "state", "parts", "prefs", "debs", "osv"):
    os.makedirs(os.path.join(apt if d not in ("debs", "osv") else out, d), exist_ok=True)
with open(os.path.join(apt, "sources.list"), "w") as f:
    f.write("deb http://deb.debian.org/debian bookworm main\n"
            "deb http://deb.debian.org/debian-security bookworm-security main\n")
opts = ["-o", "Dir::State::status=" + status, "-o", "Dir::Etc::SourceList=" + os.path.join(apt, "sources.list"),
        "-o", "Dir::Etc::SourceParts=" + os.path.join(apt, "parts"),
        "-o", "Dir::Etc::PreferencesParts=" + os.path.join(apt, "prefs"),
        "-o", "Dir::State::Lists=" + os.path.join(apt, "lists"), "-o", "Dir::State=" + os.path.join(apt, "state"),
        "-o", "Dir::Cache=" + os.path.join(apt, "cache"), "-o", "Debug::NoLocking=1",
        "-o", "APT::Architecture=amd64", "-o", "APT::Architectures=amd64"]
if proxy:
    opts += ["-o", "Acquire::http::Proxy=" + proxy]


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit("%s failed (%d): %s" % (" ".join(args[:3]), r.returncode, (r.stderr or r.stdout)[-2000:]))
    return r.stdout


run(["apt-get", "-q"] + opts + ["update"])
sim = run(["apt-get", "-s", "-q"] + opts + ["upgrade"])
ups = []
for line in sim.splitlines():
    m = re.match(r"^Inst (\S+) \[([^\]]+)\] \((\S+) ([^\[]*)\[", line)
    if m and "security" in m.group(4).lower():
        ups.append((m.group(1), m.group(2), m.group(3)))
if not ups:
    sys.exit("bookworm-security has no newer version of any installed package")
debdir = os.path.join(out, "debs")
run(["apt-get", "-q"] + opts + ["download"] + ["%s=%s" % (n, v) for n, _, v in ups], cwd=debdir)


def deb_field(path, name):
    return subprocess.run(["dpkg-deb", "-f", path, name], capture_output=True, text=True).stdout.strip()


def top_cves(path, pkg):
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", path], capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        for n in ("./usr/share/doc/%s/changelog.Debian.gz" % pkg, "usr/share/doc/%s/changelog.Debian.gz" % pkg):
            try:
                m = tf.getmember(n)
            except KeyError:
                continue
            if not m.isfile():
                return None
            text = gzip.decompress(tf.extractfile(m).read()).decode("utf-8", "replace")
            top = []
            for i, l in enumerate(text.splitlines()):
                top.append(l)
                if l.startswith(" -- "):
                    break
            return sorted(set(re.findall(r"CVE-\d{4}-\d{4,}", "\n".join(top))))
    return None


srcs = {}  # source -> (version, cves or None)
rows = []
for name, old, new in ups:
    debs = [f for f in os.listdir(debdir) if f.startswith(name + "_") and f.endswith(".deb")]
    if not debs:
        sys.exit("apt-get download left no .deb for %s" % name)
    p = os.path.join(debdir, debs[0])
    src = deb_field(p, "Source") or name
    sver = new
    m = re.match(r"^(\S+) \((\S+)\)$", src)
    if m:
        src, sver = m.group(1), m.group(2)
    cves = top_cves(p, name)
    if src not in srcs or srcs[src][1] is None:
        srcs[src] = (sver, cves)
    rows.append([name, old, new, src])
byid = {}
for src, (sver, cves) in srcs.items():
    for c in cves or []:
        byid.setdefault(c, []).append({"package": {"ecosystem": "Debian:12", "name": src},
                                       "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": sver}]}]})
for cid, aff in byid.items():
    with open(os.path.join(out, "osv", cid + ".json"), "w") as f:
        json.dump({"schema_version": "1.6.0", "id": cid, "modified": "2026-01-01T00:00:00Z",
                   "summary": "%s (from the Debian security archive's changelog)" % cid, "affected": aff}, f)
with open(os.path.join(out, "expected.tsv"), "w") as f:
    for name, old, new, src in rows:
        f.write("%s\t%s\t%s\t%s\t%s\n" % (name, old, new, src, ",".join(srcs[src][1] or [])))
print("%d packages from bookworm-security, %d sources, %d CVEs" % (len(rows), len(srcs), len(byid)))
