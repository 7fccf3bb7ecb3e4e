#!/usr/bin/env bash
# The comparison tools of the real-world suite must see what they are meant
# to see: treecmp.py on two small hand-made images that differ in one field
# each (mode, owner, content, xattr, symlink target, a hard link against a
# copy, a whiteout, a non-UTF-8 name), invcmp.py on a missing, an excepted
# and an extra package.
set -u
. "$(dirname "$0")/../lib/common.sh"
T=$(tmpdir_new tools)
"$PYTHON" - "$T" <<'PY'
import hashlib, io, json, os, sys, tarfile
t = sys.argv[1]
def layout(d, layers):
    b = os.path.join(d, "blobs", "sha256"); os.makedirs(b)
    def put(data):
        h = hashlib.sha256(data).hexdigest(); open(os.path.join(b, h), "wb").write(data); return "sha256:" + h, len(data)
    ls = []
    for ents in layers:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape") as tf:
            for name, kind, data, extra in ents:
                ti = tarfile.TarInfo(name); ti.mode = extra.get("mode", 0o644); ti.uid = extra.get("uid", 0)
                if kind == "dir": ti.type = tarfile.DIRTYPE; ti.mode = 0o755
                elif kind == "sym": ti.type = tarfile.SYMTYPE; ti.linkname = data
                elif kind == "hard": ti.type = tarfile.LNKTYPE; ti.linkname = data
                else: ti.size = len(data)
                if "xattr" in extra: ti.pax_headers = {"SCHILY.xattr.security.capability": extra["xattr"]}
                tf.addfile(ti, io.BytesIO(data) if kind == "file" else None)
        ls.append(put(buf.getvalue()))
    cd, cs = put(b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
    md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": x, "size": n} for x, n in ls]}).encode())
    open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType":
        "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "1"}}]}))
odd = b"caf\xe9".decode("utf-8", "surrogateescape")
base = [("etc", "dir", b"", {}), ("etc/a", "file", b"a", {}), ("etc/gone", "file", b"x", {}), ("var/log", "dir", b"", {}),
        ("var/log/x.log", "file", b"1", {})]
A = [("etc/mode", "file", b"m", {"mode": 0o755}), ("etc/own", "file", b"o", {"uid": 1000}), ("etc/data", "file", b"1", {}),
     ("etc/cap", "file", b"c", {"xattr": "\x01\x00\x00\x02"}), ("etc/l", "sym", "a", {}), ("etc/h", "hard", "etc/a", {}),
     ("etc/.wh.gone", "file", b"", {}), ("etc/" + odd, "file", b"", {}), ("var/log/x.log", "file", b"2", {})]
B = [("etc/mode", "file", b"m", {}), ("etc/own", "file", b"o", {}), ("etc/data", "file", b"2", {}),
     ("etc/cap", "file", b"c", {}), ("etc/l", "sym", "b", {}), ("etc/h", "file", b"a", {}), ("var/log/x.log", "file", b"3", {})]
layout(os.path.join(t, "a"), [base, A]); layout(os.path.join(t, "b"), [base, B])
layout(os.path.join(t, "c"), [base, A])
PY
printf 'var/log/*\n' >"$T/vol"
expect_exit 1 "treecmp: two trees that differ fail" "$PYTHON" "$TESTLIB/treecmp.py" diff --volatile "$T/vol" "$T/a" 1 "$T/b" 1
for w in "differs: /etc/mode: mode 0755 vs 0644" "differs: /etc/own: uid 1000 vs 0" "differs: /etc/data: sha256" \
    "differs: /etc/cap: xattrs security.capability=01000002 vs -" "differs: /etc/l: link a vs b" \
    "differs: /etc/a: hardlinks etc/h vs -" "only in B: /etc/gone" 'only in A: /etc/caf\\xe9' \
    "excused \\(volatile var/log/\\*\\): differs: /var/log/x.log" "12 paths in A, 12 in B; 9 differences, 1 excused"; do
    expect_out "treecmp reports: $w" "$w"
done
expect_exit 0 "treecmp: the same tree twice is equal" "$PYTHON" "$TESTLIB/treecmp.py" diff "$T/a" 1 "$T/c" 1

cdx() { printf '{"components":[%s]}' "$(printf '{"purl":"%s"},' "$@" | sed 's/,$//')"; }
cdx "pkg:deb/debian/libc6@2.36-9?arch=amd64" "pkg:npm/%40scope/x@1.0.0" "pkg:pypi/Py_YAML@6.0" >"$T/bosun.cdx"
cdx "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12" "pkg:npm/%40scope/x@1.0.0" "pkg:npm/root@1.0.0" \
    "pkg:pypi/py-yaml@6.0" "pkg:maven/g/a@1" >"$T/trivy.cdx"
printf 'ii |libc6|2.36-9\nii |bsdutils|1:2.38\nrc |gone|1\n' >"$T/dpkg.txt"
: >"$T/none"
expect_exit 1 "invcmp: missing packages fail" "$PYTHON" "$TESTLIB/invcmp.py" img "$T/bosun.cdx" "$T/trivy.cdx" "$T/dpkg.txt" "$T/none"
expect_out "invcmp: a package dpkg-query lists is missing (with its epoch)" "MISSING: deb bsdutils@1:2.38 \(in dpkg\)"
expect_out "invcmp: a package Trivy lists is missing" "MISSING: npm root@1.0.0 \(in trivy\)"
expect_out "invcmp: maven counted" "MISSING: maven g:a@1"
expect_no_out "invcmp: names compared as purl types define them (npm scope, PEP 503)" "MISSING: (npm @scope|pypi)"
expect_no_out "invcmp: a removed package (rc) is not expected" "gone"
printf 'img deb bsdutils@*  # reason\n* npm root@1.0.0\nimg maven g:a@1\n' >"$T/exc"
expect_exit 0 "invcmp: listed exceptions pass" "$PYTHON" "$TESTLIB/invcmp.py" img "$T/bosun.cdx" "$T/trivy.cdx" "$T/dpkg.txt" "$T/exc"
expect_out "invcmp: exceptions are still printed" "missing \(excepted\): npm root@1.0.0"
finish
