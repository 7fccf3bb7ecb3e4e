#!/usr/bin/env bash
# rpm cataloger: an rpmdb.sqlite written by Debian's rpm (packages built
# with rpmbuild, installed with --justdb) is read from a dir: root and from
# an image layer; rpm -qa is the oracle for names, epochs, versions and
# source rpms. Matching in Rocky Linux:9 with rpm version order; damaged
# databases.
set -u
. "$(dirname "$0")/../lib/common.sh"

T=$(tmpdir_new rpm)
export XDG_CACHE_HOME="$T/xdg"
if ! command -v rpmbuild >/dev/null || ! command -v rpm >/dev/null; then
    skip "rpm cataloger" "rpm/rpmbuild not installed (apt-get install rpm)"; finish
fi

# two source packages: one with an epoch and two binary packages, one without
cat >"$T/a.spec" <<'EOF2'
Name: bosun-src
Version: 1.2.3
Release: 4.el9
Epoch: 2
Summary: t
License: MIT
BuildArch: noarch
%description
t
%package -n bosun-lib
Summary: t
%description -n bosun-lib
t
%install
mkdir -p %{buildroot}/usr/share/a && echo a >%{buildroot}/usr/share/a/a && echo b >%{buildroot}/usr/share/a/b
%files
/usr/share/a/a
%files -n bosun-lib
/usr/share/a/b
EOF2
cat >"$T/b.spec" <<'EOF2'
Name: tinytool
Version: 0.9~rc1
Release: 1.el9
Summary: t
License: MIT
BuildArch: noarch
%description
t
%install
mkdir -p %{buildroot}/usr/share/b && echo b >%{buildroot}/usr/share/b/b
%files
/usr/share/b/b
EOF2
for s in a b; do
    rpmbuild --define "_topdir $T/top" -bb "$T/$s.spec" >"$T/rpmbuild-$s.log" 2>&1 || { fail "rpmbuild $s" "$(tail -5 "$T/rpmbuild-$s.log")"; finish; }
done
R="$T/root"
mkdir -p "$R/var/lib/rpm" "$R/etc"
printf 'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n' >"$R/etc/os-release"
rpm --dbpath "$R/var/lib/rpm" --initdb
rpm --dbpath "$R/var/lib/rpm" -i --nodeps --justdb --ignorearch --ignoreos "$T"/top/RPMS/noarch/*.rpm >/dev/null 2>&1
rpm --dbpath "$R/var/lib/rpm" -qa --qf '%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{SOURCERPM}\n' | sort >"$T/oracle.txt"
[ "$(wc -l <"$T/oracle.txt")" -eq 3 ] && ok "rpm installed 3 packages into rpmdb.sqlite" || fail "rpm -qa" "$(cat "$T/oracle.txt")"
rm -f "$R/var/lib/rpm/rpmdb.sqlite-shm" "$R/var/lib/rpm/rpmdb.sqlite-wal" "$R/var/lib/rpm/.rpm.lock"

mkdir -p "$T/osv"
cat >"$T/osv/RLSA-2099-1.json" <<'J'
{"id":"RLSA-2099:0001","modified":"2024-01-01T00:00:00Z","summary":"bosun-src fix in -5","aliases":["CVE-2099-2001"],
 "affected":[{"package":{"ecosystem":"Rocky Linux:9","name":"bosun-src"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2:1.2.3-5.el9"}]}]}]}
J
cat >"$T/osv/RLSA-2099-2.json" <<'J'
{"id":"RLSA-2099:0002","modified":"2024-01-01T00:00:00Z","summary":"already fixed","aliases":["CVE-2099-2002"],
 "affected":[{"package":{"ecosystem":"Rocky Linux:9","name":"bosun-src"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2:1.2.3-4.el9"}]}]}]}
J
cat >"$T/osv/RLSA-2099-3.json" <<'J'
{"id":"RLSA-2099:0003","modified":"2024-01-01T00:00:00Z","summary":"tilde: 0.9~rc1 sorts before 0.9","aliases":["CVE-2099-2003"],
 "affected":[{"package":{"ecosystem":"Rocky Linux:9","name":"tinytool"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"0.9-1.el9"}]}]}]}
J
cat >"$T/osv/RLSA-2099-4.json" <<'J'
{"id":"RLSA-2099:0004","modified":"2024-01-01T00:00:00Z","summary":"epoch wins: 1:9.9 < 2:1.2.3","aliases":["CVE-2099-2004"],
 "affected":[{"package":{"ecosystem":"Rocky Linux:9","name":"bosun-src"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:9.9-1.el9"}]}]}]}
J
check "db build" "$BOSUN" db build --osv "$T/osv" -o "$T/v.db"

got() {
    "$PYTHON" - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for p in sorted(r["packages"], key=lambda p: p["name"]):
    if p["type"] != "rpm": continue
    print(p["name"], p["version"], "%s-%s.src.rpm" % (p.get("source_name", p["name"]), p.get("source_version", p["version"]).split(":")[-1]))
PY
}
check "scan dir: with rpmdb.sqlite" "$BOSUN" scan --db "$T/v.db" --format json -o "$T/dir.json" "dir:$R"
got "$T/dir.json" >"$T/got.txt"
cmp -s "$T/oracle.txt" "$T/got.txt" && ok "names, epochs, versions, source rpms = rpm -qa" || fail "rpm packages differ" "$(diff "$T/oracle.txt" "$T/got.txt")"
"$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["os"]["ecosystem"]=="Rocky Linux:9", r["os"]' "$T/dir.json" && ok "ecosystem Rocky Linux:9" || fail "ecosystem"
ids=$("$PYTHON" -c 'import json,sys; print(" ".join(sorted({f["id"]+"/"+f["package"] for f in json.load(open(sys.argv[1]))["findings"]})))' "$T/dir.json")
[ "$ids" = "RLSA-2099:0001/bosun-lib RLSA-2099:0001/bosun-src RLSA-2099:0003/tinytool" ] && ok "findings: fixed-in -5 on both binaries, tilde pre-release; not the fixed or epoch-lower ones" || fail "rpm findings" "$ids"

# the same root as a one-layer image
tar -C "$R" -cf - . | gzip -n >"$T/layer.tgz"
"$PYTHON" - "$T" <<'PY'
import gzip, hashlib, json, os, sys
t = sys.argv[1]; d = os.path.join(t, "img"); b = os.path.join(d, "blobs", "sha256"); os.makedirs(b)
def put(data):
    h = hashlib.sha256(data).hexdigest(); open(os.path.join(b, h), "wb").write(data); return "sha256:" + h, len(data)
raw = open(os.path.join(t, "layer.tgz"), "rb").read(); ld, ls = put(raw)
cd, cs = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(gzip.decompress(raw)).hexdigest()]}, "config": {}}).encode())
md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}]}).encode())
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "1"}}]}))
PY
check "scan oci: image with rpmdb.sqlite" "$BOSUN" scan --db "$T/v.db" --format json -o "$T/img.json" "oci:$T/img:1"
got "$T/img.json" | cmp -s - "$T/oracle.txt" && ok "image gives the same rpm packages" || fail "image rpm packages"

# the BerkeleyDB Packages file of rpm < 4.16, written by db5.3_load from the
# same header blobs: small pages (every header in overflow chains) and
# large pages (headers inline)
if command -v db5.3_load >/dev/null; then
    for ps in 512 65536; do
        B="$T/bdb$ps"; mkdir -p "$B/var/lib/rpm" "$B/etc"; cp "$R/etc/os-release" "$B/etc/"
        "$PYTHON" - "$R/var/lib/rpm/rpmdb.sqlite" <<'PY' | db5.3_load -T -t hash -c db_pagesize=$ps "$B/var/lib/rpm/Packages"
import sqlite3, struct, sys
c = sqlite3.connect(sys.argv[1])
esc = lambda b: "".join("\\%02x" % x for x in b)
for hnum, blob in c.execute("select hnum, blob from Packages"):
    print(esc(struct.pack("<I", hnum))); print(esc(blob))
PY
        file "$B/var/lib/rpm/Packages" | grep -q 'Berkeley DB.*Hash' && ok "db5.3_load wrote a BerkeleyDB hash file (page size $ps)" || fail "bdb file $ps" "$(file "$B/var/lib/rpm/Packages")"
        check "scan BerkeleyDB Packages (page size $ps)" "$BOSUN" scan --db "$T/v.db" --format json -o "$T/bdb$ps.json" "dir:$B"
        got "$T/bdb$ps.json" | cmp -s - "$T/oracle.txt" && ok "BerkeleyDB ($ps): same packages as rpm -qa" || fail "bdb $ps packages" "$(got "$T/bdb$ps.json")"
    done
    # damaged BerkeleyDB: overflow chains broken, a truncated file, random bytes with the magic
    cp -r "$T/bdb512" "$T/bdbbad"
    "$PYTHON" - "$T/bdbbad/var/lib/rpm/Packages" <<'PY'
import struct, sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read()); ps = 512
for pg in range(1, len(d) // ps):
    o = pg * ps
    if d[o + 25] == 7:  # overflow page: point next_pgno at itself
        d[o + 16:o + 20] = struct.pack("<I", pg)
open(p, "wb").write(d)
PY
    OUT=$("$BOSUN" scan --db "$T/v.db" "dir:$T/bdbbad" 2>&1); RC=$?
    [ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q 'damaged package header' && ok "looping overflow chains: headers skipped and counted, no hang" || fail "bdb loop ($RC)" "$OUT"
    "$PYTHON" -c 'import os,sys; d=bytearray(os.urandom(8192)); d[12:16]=(0x061561).to_bytes(4,"little"); d[20:24]=(512).to_bytes(4,"little"); d[25]=8; d[24]=0
for pg in range(1,16): d[pg*512+25]=13
open(sys.argv[1],"wb").write(d)' "$T/rand-Packages"
    mkdir -p "$T/bdbrand/var/lib/rpm" && cp "$T/rand-Packages" "$T/bdbrand/var/lib/rpm/Packages"
    OUT=$("$BOSUN" scan --db "$T/v.db" "dir:$T/bdbrand" 2>&1); RC=$?
    [ "$RC" -eq 0 ] || [ "$RC" -eq 3 ] && ok "random hash pages: clean exit ($RC)" || fail "random bdb exit $RC" "$OUT"
    mkdir -p "$T/bdbnot/var/lib/rpm" && head -c 4096 /dev/zero >"$T/bdbnot/var/lib/rpm/Packages"
    expect_exit 3 "a Packages file that is not BerkeleyDB exits 3" "$BOSUN" scan --db "$T/v.db" "dir:$T/bdbnot"
    expect_out "clear message" 'var/lib/rpm/Packages: not a BerkeleyDB hash database'
else
    skip "BerkeleyDB Packages" "db5.3_load not installed (apt-get install db5.3-util)"
fi

# damaged: one garbage header among good ones is skipped and counted
cp -r "$R" "$T/dmg"
"$PYTHON" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("insert into Packages(blob) values (?)", (b"\x00\x00\xff\xff\x00\x00\x00\x10garbage",)); c.commit(); c.close()' "$T/dmg/var/lib/rpm/rpmdb.sqlite"
expect_exit 0 "a damaged header is skipped" "$BOSUN" scan --db "$T/v.db" --format json -o "$T/dmg.json" "dir:$T/dmg"
expect_out "and counted" '1 damaged package header skipped'
got "$T/dmg.json" | cmp -s - "$T/oracle.txt" && ok "the good headers still read" || fail "damaged db packages"
# not SQLite at all / SQLite without the table
mkdir -p "$T/bad1/var/lib/rpm" "$T/bad2/var/lib/rpm"
head -c 4096 /dev/urandom >"$T/bad1/var/lib/rpm/rpmdb.sqlite"
expect_exit 3 "an rpmdb.sqlite that is not SQLite exits 3" "$BOSUN" scan --db "$T/v.db" "dir:$T/bad1"
expect_out "clear message" 'var/lib/rpm/rpmdb.sqlite: not an SQLite database'
"$PYTHON" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table x(a)"); c.commit()' "$T/bad2/var/lib/rpm/rpmdb.sqlite"
expect_exit 3 "an SQLite file without Packages exits 3" "$BOSUN" scan --db "$T/v.db" "dir:$T/bad2"
expect_out "says it is not an rpm database" 'not an rpm database'
# truncated SQLite
mkdir -p "$T/bad3/var/lib/rpm"
head -c 8192 "$R/var/lib/rpm/rpmdb.sqlite" >"$T/bad3/var/lib/rpm/rpmdb.sqlite"
OUT=$("$BOSUN" scan --db "$T/v.db" "dir:$T/bad3" 2>&1); RC=$?
[ "$RC" -eq 0 ] || [ "$RC" -eq 3 ] && ok "truncated rpmdb: clean exit ($RC), no crash" || fail "truncated rpmdb exit $RC" "$OUT"
finish
