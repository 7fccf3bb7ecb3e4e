#!/usr/bin/env python3
"""Make a distroless-style image from a Debian image, as Google's distroless
images are laid out: no apt and no dpkg binaries, and dpkg's status split
into one file per package under var/lib/dpkg/status.d/ (NAME, and
NAME.md5sums from var/lib/dpkg/info/).

    distroless.py SRC_LAYOUT SRC_TAG DST_LAYOUT DST_TAG

The result is the source image's layers plus one layer that deletes the
binaries (whiteouts), var/lib/dpkg/status and var/lib/dpkg/info, and adds
status.d/. Standard library only."""
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oci_tree import blob, manifest_for, open_layer, norm  # noqa: E402

src, stag, dst, dtag = sys.argv[1:5]
man = manifest_for(src, stag)
status = info = None
md5 = {}
bins = set()
for l in man["layers"]:
    with open_layer(blob(src, l["digest"])) as tf:
        for m in tf:
            n = norm(m.name).decode("utf-8", "surrogateescape")
            if n == "var/lib/dpkg/status" and m.isfile():
                status = tf.extractfile(m).read()
            elif n.startswith("var/lib/dpkg/info/") and n.endswith(".md5sums") and m.isfile():
                md5[os.path.basename(n)[:-8].split(":")[0]] = tf.extractfile(m).read()
            elif n.startswith("usr/bin/") and (os.path.basename(n).startswith("apt") or os.path.basename(n).startswith("dpkg")):
                bins.add(n)
if status is None:
    sys.exit("no var/lib/dpkg/status in the image")

buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
    def add(name, data=None, kind="file"):
        ti = tarfile.TarInfo(name)
        ti.mtime = 1700000000
        if kind == "dir":
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            tf.addfile(ti)
        else:
            ti.mode, ti.size = 0o644, len(data)
            tf.addfile(ti, io.BytesIO(data))
    add("var/lib/dpkg", kind="dir")
    add("var/lib/dpkg/.wh.status", b"")
    add("var/lib/dpkg/.wh.info", b"")
    add("var/lib/dpkg/status.d", kind="dir")
    for stanza in status.decode("utf-8", "surrogateescape").split("\n\n"):
        if not stanza.strip():
            continue
        fields = dict(l.split(":", 1) for l in stanza.splitlines() if l and not l[0].isspace() and ":" in l)
        if "installed" not in fields.get("Status", "") or "config-files" in fields.get("Status", ""):
            continue
        name = fields["Package"].strip()
        add("var/lib/dpkg/status.d/" + name, (stanza.strip("\n") + "\n").encode("utf-8", "surrogateescape"))
        if name in md5:
            add("var/lib/dpkg/status.d/%s.md5sums" % name, md5[name])
    dirs = sorted({os.path.dirname(b) for b in bins})
    for d in dirs:
        add(d, kind="dir")
    for b in sorted(bins):
        add(os.path.join(os.path.dirname(b), ".wh." + os.path.basename(b)), b"")
raw = buf.getvalue()
gz = gzip.compress(raw, mtime=0)

shutil.rmtree(dst, ignore_errors=True)
bd = os.path.join(dst, "blobs", "sha256")
os.makedirs(bd)


def put(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(bd, h), "wb") as f:
        f.write(data)
    return "sha256:" + h, len(data)


for l in man["layers"]:
    shutil.copy(blob(src, l["digest"]), os.path.join(bd, l["digest"].split(":")[1]))
cfg = json.load(open(blob(src, man["config"]["digest"])))
cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw).hexdigest())
cfg.setdefault("history", []).append({"created": "2023-11-14T22:13:20Z", "created_by": "distroless.py"})
cd, cs = put(json.dumps(cfg).encode())
ld, ls = put(gz)
m2 = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
      "layers": man["layers"] + [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}]}
md, ms = put(json.dumps(m2).encode())
with open(os.path.join(dst, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(os.path.join(dst, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
               "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": dtag}}]}, f)
print(md)
