#!/usr/bin/env bash
# Names are bytes. File names in UTF-8 of several scripts, invalid UTF-8, a
# newline, a 255-byte component and a 300-byte path, in base layers written
# by Python's tarfile (PAX and GNU forms) and by buildah, through COPY and
# RUN, in build, copy and scan, whatever the locale: every name must come
# out byte for byte. Python's tarfile (tests/lib/oci_tree.py) and buildah
# (mounting bosun's image) read what bosun wrote; reports stay valid UTF-8
# and show such names escaped.
set -u
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/images.sh"

# lower case only: buildah names images after the oci: path
T=/tmp/bosun-names-$$-$RANDOM
mkdir -p "$T" && at_exit rm -rf "$T"
PY=${PYTHON:-python3}
TREE="$REPO/tests/lib/oci_tree.py"
export LC_ALL=C # the locale must not matter

if ! make_busybox_oci "$T/bb" latest 2>"$T/why"; then
    fail "busybox base" "$(cat "$T/why")"; finish
fi
bbl=$("$PY" -c 'import json,sys;print(json.load(open(sys.argv[1]))["layers"][0]["digest"].split(":")[1])' \
    "$T/bb/blobs/sha256/${IMG_MANIFEST_DIGEST#sha256:}")
gzip -dc "$T/bb/blobs/sha256/$bbl" >"$T/bb.tar"

# The names, the base layers (PAX and GNU, by tarfile), the build context,
# and the list of paths every reader must find.
TESTLIB="$TESTLIB" "$PY" - "$T" <<'PY'
import io, os, sys, tarfile
t = sys.argv[1]
names = [n if isinstance(n, bytes) else n.encode() for n in [
    "F\u0151tan\u00fas\u00edtv\u00e1ny.pem", "\u65e5\u672c\u8a9e\u30d5\u30a1\u30a4\u30eb",
    "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac", "\u05e2\u05d1\u05e8\u05d9\u05ea", "a\u263ab",
    b"bad\xff\xfe", b"cut\xe2\x98", "nl\nname", "c" * 255, "sp ace \\ back"]]
deep = b"deep/" + b"/".join([b"d" * 100] * 3) + b"/f"
cap = bytes([1, 0, 0, 2, 0, 0x20, 0, 0] + [0] * 12)
S = lambda b: b.decode("utf-8", "surrogateescape")
def layer(path, top, fmt):
    with tarfile.open(path, "w", format=fmt, encoding="utf-8", errors="surrogateescape") as tf:
        d = tarfile.TarInfo(top); d.type = tarfile.DIRTYPE; d.mode = 0o755; tf.addfile(d)
        for n in names + [deep]:
            i = tarfile.TarInfo(S(top.encode() + b"/" + n)); data = n; i.size = len(data); i.mode = 0o644
            tf.addfile(i, io.BytesIO(data))
        i = tarfile.TarInfo(S(top.encode() + b"/lnk-\xe2\x98\xba")); i.type = tarfile.SYMTYPE
        i.linkname = S(b"/" + top.encode() + b"/" + b"t" * 120 + b"\xe2\x98\xba\xff"); tf.addfile(i)
        i = tarfile.TarInfo(S(top.encode() + b"/hard-\xff")); i.type = tarfile.LNKTYPE
        i.linkname = S(top.encode() + b"/a\xe2\x98\xbab"); tf.addfile(i)
        if fmt == tarfile.PAX_FORMAT:
            i = tarfile.TarInfo(top + "/cap-file"); i.size = 3; i.mode = 0o755
            i.pax_headers = {"SCHILY.xattr.security.capability": S(cap),
                             "SCHILY.xattr.user.note": "\u00fcn\u00efcode"}
            tf.addfile(i, io.BytesIO(b"ELF"))
layer(t + "/pax.tar", "py-pax", tarfile.PAX_FORMAT)
layer(t + "/gnu.tar", "py-gnu", tarfile.GNU_FORMAT)
ctx = os.path.join(t.encode(), b"ctx")
os.makedirs(ctx + b"/ctx/" + b"/".join([b"d" * 100] * 3))
for n in names:
    open(ctx + b"/ctx/" + n, "wb").write(n)
open(ctx + b"/ctx/" + b"/".join([b"d" * 100] * 3) + b"/f", "wb").write(b"deep")
os.symlink(b"a\xe2\x98\xbab", ctx + b"/ctx/sym-\xff")
pk = ctx + b"/ctx/py/w\xe2\x98\xba\xff-1.0.dist-info"
os.makedirs(pk)
open(pk + b"/METADATA", "wb").write(b"Metadata-Version: 2.1\nName: weird-pkg\nVersion: 1.0\n")
import zipfile  # a jar whose first entry has a non-ASCII (UTF-8 flagged) name
with zipfile.ZipFile(os.fsdecode(ctx + b"/ctx/py/names.jar"), "w") as z:
    z.writestr("a/F\u0151tan\u00fas\u00edtv\u00e1ny.txt", "x")
    z.writestr("META-INF/maven/org.example/demo/pom.properties", "groupId=org.example\nartifactId=demo\nversion=1.2.3\n")
sys.path.insert(0, os.environ["TESTLIB"])
from oci_tree import esc
want = set()
for top in (b"py-pax", b"py-gnu"):
    want |= {top + b"/" + n for n in names} | {top + b"/lnk-\xe2\x98\xba", top + b"/hard-\xff"}
    p = top
    for c in deep.split(b"/"):
        p += b"/" + c; want.add(p)
want |= {b"py-pax/cap-file", b"py-pax", b"py-gnu", b"copied"}
added = {b"added"} | {b"added/" + w for w in want if w.startswith(b"py-pax")}
open(t + "/want-added.txt", "w").write("".join(esc(w) + "\n" for w in sorted(added)))
want.discard(b"py-pax/a\xe2\x98\xbab")  # deleted by the RUN step
want |= {b"copied/" + n for n in names} | {b"copied/sym-\xff", b"copied/py",
         b"copied/py/w\xe2\x98\xba\xff-1.0.dist-info", b"copied/py/w\xe2\x98\xba\xff-1.0.dist-info/METADATA",
         b"copied/py/names.jar"}
p = b"copied"
for c in [b"d" * 100] * 3 + [b"f"]:
    p += b"/" + c; want.add(p)
want |= {b"run-made", b"run-made/run\xffx", b"run-made/\xe6\x97\xa5", b"run-made/sym"}
open(t + "/want.txt", "w").write("".join(esc(w) + "\n" for w in sorted(want)))
open(t + "/want-gnu.bin", "wb").write(b"".join(b"/" + w + b"\0" for w in sorted(want) if w.startswith(b"py-gnu")))
PY
cp "$T/bb.tar" "$T/bb2.tar"
gzip -n -c "$T/pax.tar" >"$T/ctx/names.tar.gz" # for ADD, which extracts it
_img_write_layout "$T/base" names "bosun tests: tarfile names" "$T/bb.tar" "$T/pax.tar" "$T/gnu.tar"

cat >"$T/ctx/Dockerfile" <<EOF
FROM oci:$T/base:names
COPY ctx/ /copied/
ADD names.tar.gz /added/
RUN rm "/py-pax/\$(printf 'a\342\230\272b')" && mkdir /run-made && cd /run-made && \\
    touch "\$(printf 'run\377x')" "\$(printf '\346\227\245')" && ln -s "\$(printf 'tgt\377')" sym && \\
    find /py-gnu -print0 > /found-gnu
EOF

# select the lines of an oci_tree listing under the tested folders
paths_of() { cut -f1 | grep -E '^(py-pax|py-gnu|copied|run-made)(/|$)' | sort; }

expect_exit 0 "build: COPY and RUN with non-ASCII, invalid UTF-8 and long names (LC_ALL=C)" \
    "$BOSUN" -q build --output "oci:$T/out:img" "$T/ctx"
"$PY" "$TREE" "$T/out" img >"$T/tree.txt" 2>"$T/tree.err" || fail "tarfile reads bosun's layers" "$(cat "$T/tree.err")"
paths_of <"$T/tree.txt" >"$T/got.txt"
if diff -u "$T/want.txt" "$T/got.txt" >"$T/diff.txt"; then
    ok "every name byte for byte in the image (tarfile reads $(wc -l <"$T/got.txt") paths)"
else
    fail "every name byte for byte in the image" "$(head -40 "$T/diff.txt")"
fi
if grep -q $'^py-pax/cap-file\t.*security.capability=01000002002000000000000000000000000000' "$T/tree.txt" &&
    grep -q $'^py-pax/cap-file\t.*user.note=c3bc6ec3af636f6465' "$T/tree.txt"; then
    ok "xattrs of a base layer kept (security.capability, a UTF-8 user xattr)"
else
    fail "xattrs of a base layer kept" "$(grep cap-file "$T/tree.txt")"
fi
cut -f1 "$T/tree.txt" | grep -E '^added(/|$)' >"$T/got-added.txt"
diff -u "$T/want-added.txt" "$T/got-added.txt" >"$T/diff-added.txt" &&
    ok "ADD extracts a tarfile archive with every name intact" ||
    fail "ADD extracts a tarfile archive with every name intact" "$(head -20 "$T/diff-added.txt")"
grep -q $'^copied/sym-\\\\xff\tsymlink\t.*\ta\xe2\x98\xbab\t' "$T/tree.txt" &&
    grep -q $'^run-made/sym\tsymlink\t.*\ttgt\\\\xff\t' "$T/tree.txt" &&
    ok "symlink targets byte for byte (COPY and RUN)" ||
    fail "symlink targets byte for byte" "$(grep -a 'sym' "$T/tree.txt")"

# RUN saw the base's GNU-form names as they were written
"$PY" - "$T" "$TREE" >"$T/found.err" 2>&1 <<'PY' && ok "RUN sees the names of a GNU-format base layer" ||
import gzip, json, sys, tarfile
t = sys.argv[1]
want = set(open(t + "/want-gnu.bin", "rb").read().split(b"\0")) - {b""}
idx = json.load(open(t + "/out/index.json"))
man = json.load(open(t + "/out/blobs/sha256/" + idx["manifests"][0]["digest"].split(":")[1]))
tf = tarfile.open(fileobj=gzip.open(t + "/out/blobs/sha256/" + man["layers"][-1]["digest"].split(":")[1]),
                  encoding="utf-8", errors="surrogateescape")
got = set(tf.extractfile("found-gnu").read().split(b"\0")) - {b""}
if got != want:
    print("missing:", sorted(want - got)[:5], "extra:", sorted(got - want)[:5])
    sys.exit(1)
PY
    fail "RUN sees the names of a GNU-format base layer" "$(cat "$T/found.err")"

# buildah (Go's archive/tar) reads bosun's image the same way
BS=(--storage-driver vfs --root "$T/bstore" --runroot "$T/brun")
if ctr=$(buildah "${BS[@]}" from --pull-never "oci:$T/out:img" 2>"$T/b.err") &&
    mnt=$(buildah "${BS[@]}" mount "$ctr" 2>>"$T/b.err"); then
    TESTLIB="$TESTLIB" "$PY" - "$mnt" >"$T/bgot.txt" <<'PY'
import os, sys
root = os.fsencode(sys.argv[1])
sys.path.insert(0, os.environ["TESTLIB"])
from oci_tree import esc
for top in (b"py-pax", b"py-gnu", b"copied", b"run-made"):
    print(esc(top))
    for d, dirs, files in os.walk(os.path.join(root, top)):
        for n in dirs + files:
            print(esc(os.path.relpath(os.path.join(d, n), root)))
PY
    sort -o "$T/bgot.txt" "$T/bgot.txt"
    if diff -u "$T/want.txt" "$T/bgot.txt" >"$T/bdiff.txt"; then
        ok "buildah mounts bosun's image with every name intact"
    else
        fail "buildah mounts bosun's image with every name intact" "$(head -30 "$T/bdiff.txt")"
    fi
    buildah "${BS[@]}" umount "$ctr" >/dev/null 2>&1
    buildah "${BS[@]}" rm "$ctr" >/dev/null 2>&1
else
    fail "buildah mounts bosun's image" "$(tail -5 "$T/b.err")"
fi

# scan: a package under a non-UTF-8 directory is found, reports stay valid
mkdir -p "$T/osv"
cat >"$T/osv/GHSA-bosn-name-byte.json" <<'EOF'
{"id":"GHSA-bosn-name-byte","modified":"2024-01-01T00:00:00Z","summary":"test record",
 "affected":[{"package":{"ecosystem":"PyPI","name":"weird-pkg"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}],
 "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}
EOF
"$BOSUN" db build --osv "$T/osv" -o "$T/db.sqlite" >/dev/null 2>&1
# A base layer written by buildah (Go), then COPY/RUN on top of it in bosun.
if ctr=$(buildah "${BS[@]}" from --pull-never "oci:$T/bb:latest" 2>"$T/b.err") &&
    buildah "${BS[@]}" copy "$ctr" "$T/ctx/ctx" /from-buildah/ >/dev/null 2>>"$T/b.err" &&
    buildah "${BS[@]}" commit -q --format oci "$ctr" "oci:$T/bbase:b" >/dev/null 2>>"$T/b.err"; then
    mkdir -p "$T/ctx2"
    printf 'FROM oci:%s/bbase:b\nRUN find /from-buildah | sort > /found-b\n' "$T" >"$T/ctx2/Dockerfile"
    expect_exit 0 "build FROM a base written by buildah, RUN over its names" \
        "$BOSUN" -q build --output "oci:$T/out2:img" "$T/ctx2"
    "$PY" "$TREE" "$T/out2" img | cut -f1 | grep -E '^from-buildah(/|$)' | sed 's/^from-buildah/copied/' >"$T/got2.txt"
    grep -E '^copied(/|$)' "$T/want.txt" >"$T/want2.txt"
    diff -u "$T/want2.txt" "$T/got2.txt" >"$T/diff2.txt" && ok "buildah's layer names kept byte for byte" ||
        fail "buildah's layer names kept byte for byte" "$(head -20 "$T/diff2.txt")"
    expect_exit 0 "scan an image whose base buildah wrote" "$BOSUN" scan --no-cache --db "$T/db.sqlite" \
        --db-max-age 0 --format json -o "$T/rb.json" "oci:$T/bbase:b"
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1],encoding="utf-8"))
sys.exit(0 if any(p["name"]=="weird-pkg" and "\\xff" in p["path"] for p in r["packages"]) else 1)' "$T/rb.json" &&
        ok "scan finds the package under a non-UTF-8 directory of buildah's layer" ||
        fail "scan finds the package under a non-UTF-8 directory of buildah's layer" "$(head -c 600 "$T/rb.json")"
else
    fail "buildah writes a base with those names" "$(tail -5 "$T/b.err")"
fi

# copy between transports: the same layers, byte for byte
expect_exit 0 "copy the image to a docker archive" "$BOSUN" -q copy "oci:$T/out:img" "docker-archive:$T/img.tar"
expect_exit 0 "and back to a layout" "$BOSUN" -q copy "docker-archive:$T/img.tar" "oci:$T/back:img"
"$PY" "$TREE" "$T/back" img >"$T/tree-back.txt" 2>/dev/null
cmp -s "$T/tree.txt" "$T/tree-back.txt" && ok "copy keeps every name, mode, owner, content and xattr" ||
    fail "copy keeps the tree" "$(diff "$T/tree.txt" "$T/tree-back.txt" | head -10)"

expect_exit 0 "scan the image (LC_ALL=C)" "$BOSUN" scan --no-cache --db "$T/db.sqlite" --db-max-age 0 \
    --format json -o "$T/r.json" --format sarif -o "$T/r.sarif" --format junit -o "$T/r.xml" \
    --format cyclonedx -o "$T/r.cdx" "oci:$T/out:img"
"$PY" - "$T" <<'PY' && ok "JSON, SARIF and CycloneDX are valid UTF-8 and show the name escaped" || fail "reports show the name escaped" "$(cat "$T/r.err")"
import json, sys
t = sys.argv[1]
errs = []
for f in ("r.json", "r.sarif", "r.cdx"):
    raw = open(t + "/" + f, "rb").read()
    try:
        raw.decode("utf-8")  # strict
        json.loads(raw)
    except Exception as ex:
        errs.append("%s: %s" % (f, ex))
    if f != "r.cdx" and "copied/py/w\u263a\\\\xff-1.0.dist-info".encode() not in raw and b"w\xe2\x98\xba\\\\xff-1.0" not in raw:
        errs.append("%s: escaped path not found" % f)
r = json.load(open(t + "/r.json"))
if not any(f.get("id") == "GHSA-bosn-name-byte" for f in r["findings"]):
    errs.append("the finding of weird-pkg is missing")
if not any(p["name"] == "org.example:demo" and p["version"] == "1.2.3" for p in r["packages"]):
    errs.append("the jar whose first entry has a non-ASCII name lost its package")
open(t + "/r.err", "w").write("\n".join(errs))
sys.exit(1 if errs else 0)
PY
check "JUnit is well-formed XML" xmllint --noout "$T/r.xml"
# layers are read in parallel: one thread or four, the same inventory and findings
BOSUN_SCAN_THREADS=1 "$BOSUN" -q scan --no-cache --db "$T/db.sqlite" --db-max-age 0 --format json -o "$T/r1.json" \
    "oci:$T/out:img" >/dev/null 2>&1
BOSUN_SCAN_THREADS=4 "$BOSUN" -q scan --no-cache --db "$T/db.sqlite" --db-max-age 0 --format json -o "$T/r4.json" \
    "oci:$T/out:img" >/dev/null 2>&1
"$PY" -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); sys.exit(0 if (a["packages"],a["findings"])==(b["packages"],b["findings"]) and a["packages"] else 1)' \
    "$T/r1.json" "$T/r4.json" && ok "a scan on 1 and on 4 threads finds the same" || fail "a scan on 1 and on 4 threads finds the same"

# a component longer than the platform allows: exit 3, the start shown
"$PY" - "$T" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1] + "/long.tar", "w", format=tarfile.PAX_FORMAT) as tf:
    i = tarfile.TarInfo("x/" + "L" * 300); i.size = 1; tf.addfile(i, io.BytesIO(b"1"))
PY
_img_write_layout "$T/longbase" l "bosun tests: long name" "$T/bb2.tar" "$T/long.tar"
mkdir -p "$T/ctx3"
printf 'FROM oci:%s/longbase:l\nRUN true\n' "$T" >"$T/ctx3/Dockerfile"
expect_exit 3 "a 300-byte name component: exit 3" "$BOSUN" -q build --output "oci:$T/out3:img" "$T/ctx3"
expect_out "the message shows the start of the name" 'x/LLLLLLLLLL.*over 255 bytes'

finish
