#!/usr/bin/env bash
# A debootstrap'd Debian bookworm minbase root (built once, cached), scanned
# as dir: and as a one-layer OCI image, against OSV Debian:12 records this
# test writes from the packages actually installed: a +deb12uN backport
# whose fix is the installed version (no false positive), one still
# affected, one fixed earlier, one unfixed. dpkg --compare-versions and
# dpkg-query are the oracles.
set -u
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../bench/scan_rootfs.sh"

T=$(tmpdir_new debian)
export XDG_CACHE_HOME="$T/xdg"
if ! R=$(rootfs_bookworm 2>"$T/why"); then
    skip "debootstrap'd bookworm scan" "could not build the root: $(cat "$T/why")"; finish
fi
if ! IMG=$(rootfs_bookworm_oci 2>"$T/why"); then
    fail "pack the root as an OCI image" "$(cat "$T/why")"; finish
fi

# installed (source, source version) per the package database, via dpkg-query
dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${db:Status-Abbrev}|${Package}|${Version}|${Source}\n' >"$T/inst.txt"
n_inst=$(grep -c '^ii' "$T/inst.txt")

mkdir -p "$T/osv"
"$PYTHON" - "$T/inst.txt" "$T/osv" "$T/expect.txt" <<'PY'
import json, os, re, subprocess, sys
inst, out, exp = sys.argv[1], sys.argv[2], sys.argv[3]
src = {}  # source -> source version, binaries
for line in open(inst):
    st, pkg, ver, s = line.rstrip("\n").split("|")
    if not st.startswith("ii"): continue
    m = re.match(r"^(\S+)(?: \((.+)\))?$", s) if s else None
    name = m.group(1) if m else pkg
    sver = (m.group(2) if m and m.group(2) else ver)
    src.setdefault(name, [sver, []])[1].append(pkg)
def pick(cond):
    for n in sorted(src):
        if cond(n, src[n][0]): return n
    raise SystemExit("no package for a record")
# glibc (libc6, libc-bin: binaries named apart from the source) when it is a backport
backport = "glibc" if "+deb12u" in src.get("glibc", [""])[0] else pick(lambda n, v: "+deb12u" in v)
affected = pick(lambda n, v: n not in (backport,) and "+deb12u" not in v and "~" not in v)
earlier  = "util-linux" if re.search(r"\+deb12u[2-9]$", src.get("util-linux", [""])[0]) else \
           pick(lambda n, v: n not in (backport, affected) and re.search(r"\+deb12u[2-9]$", v))
unfixed  = pick(lambda n, v: n not in (backport, affected, earlier))
recs = {
  "DEBIAN-CVE-2099-0001": (backport, [{"introduced": "0"}, {"fixed": src[backport][0]}]),
  "DEBIAN-CVE-2099-0002": (affected, [{"introduced": "0"}, {"fixed": src[affected][0] + "+deb12u1"}]),
  "DEBIAN-CVE-2099-0003": (earlier,  [{"introduced": "0"}, {"fixed": re.sub(r"deb12u(\d)$", lambda m: "deb12u%d" % (int(m.group(1)) - 1), src[earlier][0])}]),
  "DEBIAN-CVE-2099-0004": (unfixed,  [{"introduced": "0"}]),
}
want = []
for rid, (name, ev) in recs.items():
    json.dump({"id": rid, "modified": "2024-01-01T00:00:00Z", "summary": "test record for " + name, "aliases": [rid.replace("DEBIAN-", "")],
               "affected": [{"package": {"ecosystem": "Debian:12", "name": name}, "ranges": [{"type": "ECOSYSTEM", "events": ev}]}]},
              open(os.path.join(out, rid + ".json"), "w"))
    # oracle: dpkg --compare-versions installed lt fixed
    fixed = [e["fixed"] for e in ev if "fixed" in e]
    hit = not fixed or subprocess.run(["dpkg", "--compare-versions", src[name][0], "lt", fixed[0]]).returncode == 0
    for b in src[name][1]:
        want.append("%s %s %s %s" % (rid, b, "yes" if hit else "no", fixed[0] if fixed else "-"))
open(exp, "w").write("\n".join(sorted(want)) + "\n")
print("records:", {k: (v[0], src[v[0]][0]) for k, v in recs.items()})
PY
[ -s "$T/expect.txt" ] && ok "records written from the installed packages" || { fail "records"; finish; }
diag "$(cat "$T/expect.txt")"
check "db build" "$BOSUN" db build --osv "$T/osv" -o "$T/v.db"

verdict() {
    # "ID PACKAGE yes|no FIXED" per (record, binary package), from a report
    "$PYTHON" - "$1" "$T/expect.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
found = {(f["id"], f["package"]) for f in r["findings"]}
for line in open(sys.argv[2]):
    rid, pkg, _, fixed = line.split()
    print(rid, pkg, "yes" if (rid, pkg) in found else "no", fixed)
PY
}
for tgt in "dir:$R" "oci:$IMG:12"; do
    kind=${tgt%%:*}
    check "scan $kind" "$BOSUN" scan --db "$T/v.db" --no-cache --format json -o "$T/$kind.json" "$tgt"
    n=$("$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(1 for p in r["packages"] if p["type"]=="deb"))' "$T/$kind.json")
    [ "$n" -eq "$n_inst" ] && ok "$kind: $n dpkg packages, as dpkg-query" || fail "$kind: $n packages, dpkg-query says $n_inst"
    "$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["os"]["ecosystem"]=="Debian:12", r["os"]' "$T/$kind.json" && ok "$kind: Debian:12" || fail "$kind ecosystem"
    verdict "$T/$kind.json" >"$T/$kind.verdict"
    cmp -s "$T/$kind.verdict" "$T/expect.txt" && ok "$kind: findings are exactly what dpkg --compare-versions implies" || fail "$kind verdicts" "$(diff "$T/expect.txt" "$T/$kind.verdict")"
    grep -q '^DEBIAN-CVE-2099-0001 .* no ' "$T/$kind.verdict" && ok "$kind: no false positive on the installed +deb12u backport" || fail "$kind backport false positive"
    grep -q '^DEBIAN-CVE-2099-0002 .* yes ' "$T/$kind.verdict" && ok "$kind: the still-affected package is found" || fail "$kind affected missing"
done
# the same package list both ways
"$PYTHON" - "$T/dir.json" "$T/oci.json" <<'PY' && ok "dir: and image give the same packages" || fail "dir vs image packages"
import json, sys
a, b = (sorted((p["name"], p["version"]) for p in json.load(open(f))["packages"]) for f in sys.argv[1:])
assert a == b
PY
grep -q '^DEBIAN-CVE-2099-0004 .* yes ' "$T/oci.verdict" && ok "the unfixed record is found" || fail "unfixed missing"
check "--ignore-unfixed" "$BOSUN" scan --db "$T/v.db" --ignore-unfixed --format json -o "$T/iu.json" "oci:$IMG:12"
"$PYTHON" - "$T/iu.json" <<'PY' && ok "--ignore-unfixed: the unfixed one is not reported, the fixed ones are" || fail "--ignore-unfixed"
import json, sys
f = json.load(open(sys.argv[1]))["findings"]
rep = {x["id"] for x in f if x["reported"]}
assert "DEBIAN-CVE-2099-0004" not in rep and "DEBIAN-CVE-2099-0002" in rep, rep
PY
finish
