#!/usr/bin/env bash
# Other projects' test data as oracles of the catalogers and the matcher
# (../shared/data/oracles, read at test time; each folder's SOURCES.txt
# says where its expected values come from):
#  1. syft's cataloger fixtures against expected.json: one root per
#     fixture, `bosun scan dir:ROOT`, a table of expected / found /
#     missing / extra; zero missing unless the fixture is listed below
#     with its reason;
#  2. trivy's npm, yarn, pnpm and cargo goldens end to end: `bosun db
#     build` from the DB fixture converted to OSV, a scan of the input
#     directory (as shipped, with its node_modules, and as the lock file
#     alone), findings compared with the golden's (id, package, installed,
#     fixed); the same input scanned as an OCI image;
#  3. the PyPA and RustSec OSV dumps: `db build` keeps every record, and
#     a scan of Python and Rust packages at every version the records name
#     agrees with an independent evaluation of the ranges (PEP 440 by
#     python3-packaging, SemVer 2.0 precedence written here);
#  4. lock files written by npm (lockfileVersion 1, 2, 3), yarn 1, yarn
#     berry, pnpm 8 and 9 from the npm registry: the lock file alone and
#     the installed tree both list exactly what the tool installed;
#  and bad input: broken lock files skipped and counted, a package
#  without a version listed and matched by nothing.
set -u
. "$(dirname "$0")/../lib/common.sh"

T=$(tmpdir_new oracles)
export XDG_CACHE_HOME="$T/xdg"
OR="$SHARED/data/oracles"
if [ ! -f "$OR/syft-fixtures/expected.json" ] || [ ! -d "$OR/trivy-golden/osv-converted" ]; then
    skip "oracle data" "no $OR (the shared test data)"; finish
fi

# relay: the Python checks print "ok - " / "not ok - " lines and "# " notes.
relay() {
    local l
    while IFS= read -r l; do
        case "$l" in
            "ok - "*) ok "${l#ok - }" ;;
            "not ok - "*) fail "${l#not ok - }" ;;
            *) printf '%s\n' "$l" ;;
        esac
    done
}

check "db build of trivy's DB fixture (OSV-converted)" "$BOSUN" db build --osv "$OR/trivy-golden/osv-converted" -o "$T/trivy.db"
n_conv=$(find "$OR/trivy-golden/osv-converted" -name '*.json' | wc -l)
printf '%s\n' "$OUT" | grep -q "^.*: $n_conv records (0 withdrawn dropped, 0 rejected)" \
    && ok "db build keeps all $n_conv converted records" || fail "converted record count" "$OUT"
S=("$BOSUN" scan --db "$T/trivy.db" --db-max-age 0 --no-cache --format json)

# ------------------------------------------------------------------ 1. syft

"$PYTHON" - "$OR/syft-fixtures" "$T/syft" <<'PY'
# Lay each fixture out where bosun (and an image) would have it.
import json, os, shutil, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
fx = json.load(open(os.path.join(src, "expected.json")))
os.makedirs(out)
def put(path, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(path, dst)
def site(tree, root):
    # syft's folders "dist-info" / "egg-info" / "EGG-INFO" carry no NAME-
    # prefix; installed they are NAME.dist-info, NAME.egg-info, NAME.egg/EGG-INFO
    sp = os.path.join(root, "usr/lib/python3/dist-packages")
    for d, dirs, files in os.walk(tree):
        rel = os.path.relpath(d, tree)
        parts = [] if rel == "." else rel.split(os.sep)
        for f in files:
            p = parts[:]
            low = [x.lower() for x in p]
            for i, x in enumerate(low):
                if x in ("dist-info", "egg-info"):
                    name = p[i - 1] if i else "pkg"
                    p = p[:i - 1 if i else 0] + ["%s.%s" % (name, x)] + p[i + 1:]
                    break
                if p[i] == "EGG-INFO":
                    name = p[i - 1] if i else "pkg"
                    p = p[:i - 1 if i else 0] + ["%s.egg" % name, "EGG-INFO"] + p[i + 1:]
                    break
            put(os.path.join(d, f), os.path.join(sp, *p, f))
rows = []
for i, f in enumerate(fx):
    root = os.path.join(out, "r%02d" % i)
    path = os.path.join(src, f["fixture"])
    kind = f["kind"]
    os.makedirs(root)
    if kind.startswith("rootfs") or (os.path.isdir(path) and kind == "apk-installed"):
        shutil.copytree(path, root, dirs_exist_ok=True)
    elif kind == "apk-installed":
        put(path, os.path.join(root, "lib/apk/db/installed"))
    elif kind == "dpkg-status":
        put(path, os.path.join(root, "var/lib/dpkg/status.d", os.path.basename(path)))
    elif kind == "rpm-bdb":
        put(path, os.path.join(root, "var/lib/rpm/Packages"))
    elif kind == "cargo-lock":
        put(path, os.path.join(root, "Cargo.lock"))
    elif kind == "python-site-packages":
        if path.endswith(".dist-info"):
            shutil.copytree(path, os.path.join(root, "usr/lib/python3/dist-packages", os.path.basename(path)))
        else:
            site(path, root)
    elif kind == "python-metadata-file":
        base = os.path.basename(path)
        put(path, os.path.join(root, "usr/lib/python3/dist-packages",
                               "x.dist-info/METADATA" if base == "METADATA" else "x.egg-info/PKG-INFO"))
    elif kind == "npm-package.json":
        name = json.load(open(path))["name"]
        put(path, os.path.join(root, "srv/app/node_modules", name, "package.json"))
    elif kind.startswith("jar"):
        # the upstream Makefile: cd DIR && zip -r ../DIR.jar .
        for jar in f["expected_by_jar"]:
            d = os.path.join(path, jar[:-4])
            os.makedirs(os.path.join(root, "opt/lib"), exist_ok=True)
            with zipfile.ZipFile(os.path.join(root, "opt/lib", jar), "w") as z:
                for dd, _, files in os.walk(d):
                    for fl in files:
                        z.write(os.path.join(dd, fl), os.path.relpath(os.path.join(dd, fl), d))
    rows.append(root)
open(os.path.join(out, "roots.txt"), "w").write("\n".join(rows) + "\n")
PY
[ -f "$T/syft/roots.txt" ] && ok "syft fixtures laid out as roots" || fail "syft fixture layout"
syft_scans=0
while IFS= read -r r; do
    "${S[@]}" -o "$r.json" "dir:$r" >"$r.log" 2>&1 && syft_scans=$((syft_scans + 1)) || cp "$r.log" "$r.err"
done <"$T/syft/roots.txt"
ok "$syft_scans syft roots scanned"

relay < <("$PYTHON" - "$OR/syft-fixtures" "$T/syft" <<'PY'

import json, os, re, sys
from collections import Counter
src, out = sys.argv[1], sys.argv[2]
fx = json.load(open(os.path.join(src, "expected.json")))
# Differences that are a choice, with the reason (a fixture here may not
# be missing anything else).
KNOWN_EXTRA = {
    "syft/pkg/cataloger/java/testdata/jar-metadata": {
        ("spring-instrumentation-4.3.0", "1.0"):
            "syft drops a jar whose MANIFEST has Weave-Classes (a New Relic agent rule); bosun reads its MANIFEST.MF",
    },
}
def norm_py(n):
    return re.sub(r"[-_.]+", "-", n).lower()
print("# %-72s %4s %5s %7s %5s" % ("fixture", "exp", "found", "missing", "extra"))
tot = Counter()
for i, f in enumerate(fx):
    root = os.path.join(out, "r%02d" % i)
    name = f["fixture"]
    if os.path.exists(root + ".err"):
        if f.get("expected_error"):
            print("ok - %s: scan refused, as upstream expects an error (%s)" % (name, open(root + ".err").read().strip().splitlines()[-1]))
        else:
            print("not ok - %s: scan failed: %s" % (name, open(root + ".err").read().strip()[-300:]))
        continue
    got = json.load(open(root + ".json"))["packages"]
    py = f["kind"].startswith("python")
    key = (lambda n: norm_py(n)) if py else (lambda n: n)
    found = Counter((key(p["name"]), p["version"]) for p in got)
    if "expected_by_jar" in f:
        exp = Counter()
        for jar, pk in f["expected_by_jar"].items():
            for p in pk:
                exp[("%s:%s" % (p["group"], p["name"]), p["version"])] += 1
    elif "expected_names_only" in f:
        exp = Counter((n, None) for n in f["expected_names_only"])
        found = Counter((n, None) for n, _ in found)
    else:
        exp = Counter((key(p["name"]), p["version"] or "") for p in f["expected"])
    missing = exp - found
    extra = found - exp
    known = KNOWN_EXTRA.get(name, {})
    unexplained = [x for x in extra if x not in known]
    print("# %-72s %4d %5d %7d %5d" % (name.replace("syft/pkg/cataloger/", ""), sum(exp.values()), sum(found.values()),
                                       sum(missing.values()), sum(extra.values())))
    for x in extra:
        if x in known:
            print("#     extra %s %s: %s" % (x[0], x[1], known[x]))
    tot.update(exp=sum(exp.values()), found=sum(found.values()), missing=sum(missing.values()), extra=sum(extra.values()))
    if f.get("expected_error"):
        ok = not found
        msg = "nothing read from a corrupt database"
    else:
        ok = not missing and not unexplained
        msg = "%d expected, %d found" % (sum(exp.values()), sum(found.values()))
    print("%s - syft %s: %s%s" % ("ok" if ok else "not ok", name, msg,
          "" if ok else "; missing %s; extra %s" % (sorted(missing), sorted(unexplained))))
print("# %-72s %4d %5d %7d %5d" % ("total", tot["exp"], tot["found"], tot["missing"], tot["extra"]))
PY
)

# ------------------------------------------------------------------ 2. trivy

. "$TESTLIB/images.sh"
TG="$OR/trivy-golden/integration/testdata"
for kind in npm yarn pnpm cargo; do
    in="$TG/fixtures/repo/$kind"
    mkdir -p "$T/trivy/$kind-full/srv/app" "$T/trivy/$kind-lock/srv/app" "$T/trivy/$kind-root/srv"
    cp -r "$in/." "$T/trivy/$kind-full/srv/app/"
    # the lock file alone (with the manifest beside it), no node_modules
    for f in package-lock.json yarn.lock pnpm-lock.yaml package.json Cargo.lock Cargo.toml; do
        [ -f "$in/$f" ] && cp "$in/$f" "$T/trivy/$kind-lock/srv/app/"
    done
    check "scan of trivy's $kind input (as shipped)" "${S[@]}" -o "$T/trivy/$kind-full.json" "dir:$T/trivy/$kind-full"
    check "scan of trivy's $kind lock file alone" "${S[@]}" -o "$T/trivy/$kind-lock.json" "dir:$T/trivy/$kind-lock"
    # the same input in an image (one layer holding /srv/app)
    cp -r "$T/trivy/$kind-full/srv/app" "$T/trivy/$kind-root/srv/"
    _img_tar "$T/trivy/$kind-root" "$T/trivy/$kind.tar" && _img_write_layout "$T/trivy/$kind-img" 1 "trivy $kind input" "$T/trivy/$kind.tar" \
        && check "scan of an image holding trivy's $kind input" "${S[@]}" -o "$T/trivy/$kind-img.json" "oci:$T/trivy/$kind-img:1" \
        || fail "image of trivy's $kind input"
done

relay < <("$PYTHON" - "$TG" "$T/trivy" <<'PY'
import json, os, sys
tg, out = sys.argv[1], sys.argv[2]
golden = {"npm": "npm.json.golden", "yarn": "yarn.json.golden", "pnpm": "pnpm.json.golden", "cargo": "cargo.lock.json.golden"}
# Packages trivy lists and bosun does not, or the reverse, with the reason.
KNOWN = {
    ("yarn", "missing", "integration", "1.0.0"): "trivy lists the project itself (its package.json); bosun lists what it depends on",
    ("yarn", "extra", "promise", "8.0.3"): "a devDependency: trivy drops them (from package.json), yarn.lock does not mark them",
    ("yarn", "extra", "asap", "2.0.6"): "a dependency of the devDependency promise",
    ("cargo", "extra", "winapi", "0.3.9"): "a dev-dependency: trivy drops them (from Cargo.toml), Cargo.lock does not mark them",
    ("cargo", "extra", "winapi-i686-pc-windows-gnu", "0.4.0"): "a dependency of the dev-dependency winapi",
    ("cargo", "extra", "winapi-x86_64-pc-windows-gnu", "0.4.0"): "a dependency of the dev-dependency winapi",
}
print("# %-6s %-6s %8s %6s %8s %6s %8s %6s" % ("input", "scan", "findings", "golden", "missing", "extra", "packages", "golden"))
for kind, g in golden.items():
    gd = json.load(open(os.path.join(tg, g)))
    want_f, want_p = set(), set()
    for r in gd["Results"]:
        for v in r.get("Vulnerabilities") or []:
            want_f.add((v["VulnerabilityID"], v["PkgName"], v["InstalledVersion"], v.get("FixedVersion", "")))
        for p in r.get("Packages") or []:
            want_p.add((p["Name"], p["Version"]))
    for scan in ("full", "lock", "img"):
        rep = json.load(open(os.path.join(out, "%s-%s.json" % (kind, scan))))
        got_f = set((f["id"], f["package"], f["installed_version"], f["fixed_version"]) for f in rep["findings"])
        got_p = set((p["name"], p["version"]) for p in rep["packages"])
        miss, extra = want_f - got_f, got_f - want_f
        print("# %-6s %-6s %8d %6d %8d %6d %8d %6d" % (kind, scan, len(got_f), len(want_f), len(miss), len(extra), len(got_p), len(want_p)))
        print("%s - trivy %s golden, %s: findings (id, package, installed, fixed) %s" % (
            "ok" if not miss and not extra else "not ok", kind, scan,
            "equal (%d)" % len(got_f) if not miss and not extra else "missing %s extra %s" % (sorted(miss), sorted(extra))))
        if scan != "lock":
            continue
        # the lock file alone: the package list is the lock file's
        bad = []
        for side, pk in (("missing", want_p - got_p), ("extra", got_p - want_p)):
            for n, v in sorted(pk):
                why = KNOWN.get((kind, side, n, v))
                if why:
                    print("#     %s %s %s: %s" % (side, n, v, why))
                else:
                    bad.append("%s %s %s" % (side, n, v))
        print("%s - trivy %s golden: packages of the lock file alone%s" % ("not ok" if bad else "ok", kind,
              ": " + ", ".join(bad) if bad else " (%d, differences explained)" % len(got_p)))
PY
)

# ------------------------------------------------------------------ bad input, no version

# A lock file that does not parse is skipped and counted, never a crash;
# a package without a version is listed and matched by nothing.
B="$T/bad"
mkdir -p "$B/osv" "$B/root/a" "$B/root/b" "$B/root/c" "$B/root/d" "$B/root/srv/node_modules/noversion-pkg" \
    "$B/root/srv/node_modules/versioned-pkg"
printf '{"lockfileVersion":1,"dependencies":{"jquery":{"version":"3.3.9"}' >"$B/root/a/package-lock.json"   # truncated
printf '[[package]]\nname = "a"\nversion = """1.0\n' >"$B/root/b/Cargo.lock"                               # unterminated
printf 'lockfileVersion: 6.0\npackages:\n  /x@1.0.0:\n\tdev: true\n' >"$B/root/c/pnpm-lock.yaml"           # a tab
printf 'jquery@^3:\n  version "3.3.9"\n' >"$B/root/d/yarn.lock"                                             # fine
printf '{"name":"noversion-pkg"}' >"$B/root/srv/node_modules/noversion-pkg/package.json"
printf '{"name":"versioned-pkg","version":"1.0.0"}' >"$B/root/srv/node_modules/versioned-pkg/package.json"
for p in noversion-pkg versioned-pkg; do
    printf '{"id":"TEST-%s","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"%s"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}' \
        "$p" "$p" >"$B/osv/$p.json"
done
cp "$OR/trivy-golden/osv-converted/CVE-2019-11358.json" "$B/osv/"
check "db build for the bad-input root" "$BOSUN" db build --osv "$B/osv" -o "$B/t.db"
expect_exit 0 "scan with three broken lock files succeeds" "$BOSUN" scan --db "$B/t.db" --db-max-age 0 --no-cache --format json -o "$B/r.json" "dir:$B/root"
[ "$(printf '%s\n' "$OUT" | grep -c 'does not parse as a lock file of its kind; skipped')" -eq 3 ] \
    && ok "one warning per broken lock file" || fail "warnings" "$OUT"
printf '%s\n' "$OUT" | grep -q '3 lock files did not parse and were skipped' \
    && ok "and the count of them" || fail "no count of the skipped lock files" "$OUT"
relay < <("$PYTHON" - "$B/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
pk = {(p["name"], p["version"]) for p in r["packages"]}
ids = {(f["id"], f["package"]) for f in r["findings"]}
print("%s - unparsed_files is 3 in the JSON report (%s)" % ("ok" if r.get("unparsed_files") == 3 else "not ok", r.get("unparsed_files")))
print("%s - the good yarn.lock beside them is read, and matched" % ("ok" if ("jquery", "3.3.9") in pk and ("CVE-2019-11358", "jquery") in ids else "not ok"))
print("%s - nothing from the broken ones" % ("ok" if not {n for n, _ in pk} & {"a", "x"} and len([p for p in pk if p[0] == "jquery"]) == 1 else "not ok"))
print("%s - a package without a version is listed with version \"\"" % ("ok" if ("noversion-pkg", "") in pk else "not ok"))
print("%s - and matched by nothing, while the versioned one beside it matches" % (
    "ok" if ("TEST-noversion-pkg", "noversion-pkg") not in ids and ("TEST-versioned-pkg", "versioned-pkg") in ids else "not ok"))
PY
)
check "CycloneDX of the same root" "$BOSUN" scan --db "$B/t.db" --db-max-age 0 --no-cache --format cyclonedx -o "$B/r.cdx.json" "dir:$B/root"
"$PYTHON" -c 'import json, sys
c = [x for x in json.load(open(sys.argv[1]))["components"] if x["name"] == "noversion-pkg"]
assert len(c) == 1 and "version" not in c[0] and c[0]["purl"] == "pkg:npm/noversion-pkg", c' "$B/r.cdx.json" \
    && ok "CycloneDX: no version, a purl without @" || fail "CycloneDX of a versionless package"

# ------------------------------------------------------------------ 3. PyPA, RustSec

PYPA="$OR/osv-data/pypa-advisories/PyPI-pypa-all.zip"
RUSTSEC="$OR/osv-data/rustsec-osv/crates.io-rustsec-all.zip"
if ! "$PYTHON" -c 'import packaging.version' 2>/dev/null; then
    skip "PyPA and RustSec dumps" "python3-packaging not installed (apt-get install python3-packaging)"; finish
fi
for dump in "$PYPA" "$RUSTSEC"; do
    name=$(basename "$dump" .zip)
    check "db build of $name" "$BOSUN" db build --osv "$dump" -o "$T/$name.db"
    counts=$("$PYTHON" -c 'import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1]); n = w = 0
for m in z.namelist():
    if m.endswith(".json"):
        n += 1; w += bool(json.loads(z.read(m)).get("withdrawn"))
print(n - w, w)' "$dump")
    set -- $counts
    printf '%s\n' "$OUT" | grep -q ": $1 records ($2 withdrawn dropped, 0 rejected)" \
        && ok "$name: every record kept ($1, and the $2 withdrawn ones dropped)" || fail "$name record count" "dump: $1 + $2 withdrawn" "$OUT"
done
check "db build of both dumps" "$BOSUN" db build --osv "$PYPA" --osv "$RUSTSEC" -o "$T/dumps.db"

# A root holding every sampled package at every version its records name.
"$PYTHON" - "$PYPA" "$RUSTSEC" "$T/dumps" <<'PY'
import json, os, re, sys, zipfile
from packaging.version import Version, InvalidVersion
pypa, rustsec, out = sys.argv[1:4]
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
def norm(n):
    return re.sub(r"[-_.]+", "-", n).lower()
def load(path, eco):
    recs = {}
    z = zipfile.ZipFile(path)
    for m in sorted(z.namelist()):
        r = json.loads(z.read(m))
        if r.get("withdrawn"):
            continue
        for a in r.get("affected", []):
            if a["package"]["ecosystem"] == eco:
                recs.setdefault(norm(a["package"]["name"]) if eco == "PyPI" else a["package"]["name"], []).append((r["id"], a))
    return recs
def valid(eco, v):
    if eco == "PyPI":
        try:
            Version(v); return True
        except InvalidVersion:
            return False
    return bool(SEMVER.match(v))
sample = {}
for eco, path in (("PyPI", pypa), ("crates.io", rustsec)):
    recs = load(path, eco)
    names = sorted(recs)
    step = max(1, len(names) // 250)
    for n in names[::step]:
        vs = set()
        for _, a in recs[n]:
            for rg in a.get("ranges", []):
                for ev in rg.get("events", []):
                    for k, v in ev.items():
                        if v != "0":
                            vs.add(v)
            vs.update(sorted(a.get("versions", []))[:4])
        vs = sorted(v for v in vs if valid(eco, v) and "\n" not in v)
        if vs:
            sample[(eco, n)] = vs
os.makedirs(out)
sp = os.path.join(out, "usr/lib/python3/dist-packages")
lock = []
for (eco, n), vs in sorted(sample.items()):
    for v in vs:
        if eco == "PyPI":
            d = os.path.join(sp, "%s-%s.dist-info" % (n.replace("-", "_"), v))
            os.makedirs(d)
            open(os.path.join(d, "METADATA"), "w").write("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (n, v))
        else:
            lock.append('[[package]]\nname = "%s"\nversion = "%s"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n' % (n, v))
os.makedirs(os.path.join(out, "srv/app"))
open(os.path.join(out, "srv/app/Cargo.lock"), "w").write("version = 3\n\n" + "\n".join(lock))
json.dump([[e, n, vs] for (e, n), vs in sorted(sample.items())], open(out + ".sample.json", "w"))
PY
check "scan of the sampled PyPI and crates.io packages" "$BOSUN" scan --db "$T/dumps.db" --db-max-age 0 --no-cache --format json -o "$T/dumps.json" "dir:$T/dumps"

relay < <("$PYTHON" - "$PYPA" "$RUSTSEC" "$T/dumps" <<'PY'
# The independent check: each OSV range evaluated as the OSV schema says
# (events sorted by version; introduced opens, fixed closes at, last_affected
# closes after), with PEP 440 order from python3-packaging and SemVer 2.0
# precedence (semver.org, section 11) written here.
import functools, json, re, sys, zipfile
from packaging.version import Version
pypa, rustsec, out = sys.argv[1:4]
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
def norm(n):
    return re.sub(r"[-_.]+", "-", n).lower()
def semver_key(v):
    m = SEMVER.match(v)
    if not m:
        return None
    core = tuple(int(x) for x in m.group(1, 2, 3))
    pre = m.group(4)
    return core, pre
def semver_cmp(a, b):
    ka, kb = semver_key(a), semver_key(b)
    if ka[0] != kb[0]:
        return -1 if ka[0] < kb[0] else 1
    pa, pb = ka[1], kb[1]
    if pa == pb:
        return 0
    if pa is None:
        return 1          # a release is above its pre-releases
    if pb is None:
        return -1
    xa, xb = pa.split("."), pb.split(".")
    for i, j in zip(xa, xb):
        if i == j:
            continue
        ni, nj = i.isdigit(), j.isdigit()
        if ni and nj:
            return -1 if int(i) < int(j) else 1
        if ni != nj:
            return -1 if ni else 1   # numeric identifiers are lower
        return -1 if i < j else 1
    return (len(xa) > len(xb)) - (len(xa) < len(xb))
V = functools.lru_cache(maxsize=None)(Version)
def cmp_for(eco):
    if eco == "PyPI":
        return lambda a, b: (V(a) > V(b)) - (V(a) < V(b))
    return semver_cmp
def valid(eco, v):
    try:
        return V(v) is not None if eco == "PyPI" else semver_key(v) is not None
    except Exception:
        return False
def in_range(events, v, cmp):
    zero = lambda x: x == "0"
    def key(ev):
        k, x = next(iter(ev.items()))
        return x
    evs = [e for e in events if next(iter(e.values())) == "0" or valid_eco(next(iter(e.values())))]
    def c(a, b):
        if zero(a) or zero(b):
            return (not zero(a)) - (not zero(b))
        return cmp(a, b)
    evs.sort(key=functools.cmp_to_key(lambda x, y: c(key(x), key(y))))
    affected = False
    for ev in evs:
        k, x = next(iter(ev.items()))
        if k == "introduced" and (zero(x) or cmp(v, x) >= 0):
            affected = True
        elif k == "fixed" and cmp(v, x) >= 0:
            affected = False
        elif k == "last_affected" and cmp(v, x) > 0:
            affected = False
    return affected
recs = {}
for eco, path in (("PyPI", pypa), ("crates.io", rustsec)):
    z = zipfile.ZipFile(path)
    for m in z.namelist():
        r = json.loads(z.read(m))
        if r.get("withdrawn"):
            continue
        for a in r.get("affected", []):
            if a["package"]["ecosystem"] == eco:
                n = norm(a["package"]["name"]) if eco == "PyPI" else a["package"]["name"]
                recs.setdefault((eco, n), []).append((r["id"], a))
sample = json.load(open(out + ".sample.json"))
rep = json.load(open(out + ".json"))
got = {}
for f in rep["findings"]:
    got.setdefault((f["ecosystem"], f["package"], f["installed_version"]), set()).add(f["id"])
stats = {}
bad = []
for eco, n, vs in sample:
    cmp = cmp_for(eco)
    valid_eco = lambda x, eco=eco: valid(eco, x)
    st = stats.setdefault(eco, {"packages": 0, "versions": 0, "pairs": 0, "affected": 0, "agree": 0})
    st["packages"] += 1
    for v in vs:
        want = set()
        for rid, a in recs[(eco, n)]:
            hit = v in a.get("versions", [])
            for rg in a.get("ranges", []):
                if rg["type"] in ("ECOSYSTEM", "SEMVER") and in_range(rg["events"], v, cmp):
                    hit = True
            if hit:
                want.add(rid)
        have = got.get((eco, n, v), set())
        st["versions"] += 1
        st["pairs"] += len(recs[(eco, n)])
        st["affected"] += len(want)
        if want == have:
            st["agree"] += 1
        else:
            bad.append("%s %s %s: bosun %s, oracle %s" % (eco, n, v, sorted(have - want), sorted(want - have)))
print("# %-10s %8s %8s %14s %9s %7s %9s" % ("ecosystem", "packages", "versions", "record checks", "affected", "agree", "disagree"))
for eco, st in stats.items():
    print("# %-10s %8d %8d %14d %9d %7d %9d" % (eco, st["packages"], st["versions"], st["pairs"], st["affected"], st["agree"],
                                               st["versions"] - st["agree"]))
for b in bad[:15]:
    print("#   differs: " + b)
for eco, st in stats.items():
    print("%s - %s: bosun's findings agree with the independent range check at %d of %d versions" % (
        "ok" if st["agree"] == st["versions"] and st["versions"] > 100 else "not ok", eco, st["agree"], st["versions"]))
PY
)


# ------------------------------------------------------------------ 4. lock files from the tools

# Real lock files, written by npm (lockfileVersion 1, 2, 3), yarn 1, yarn
# berry and pnpm 8 and 9 from the npm registry: the lock file alone must
# list what the tool installs (every package.json at an install location
# of the tree it builds, walked here), and so must bosun's scan of that
# tree. Skipped where the registry cannot be reached.
L="$T/locks"
mkdir -p "$L/template"
# a scoped package, and chalk 1 at the top with chalk 2 nested below @babel/highlight
printf '{"name":"lock-oracle","version":"1.0.0","dependencies":{"lodash":"4.17.4","jquery":"3.3.1","@babel/code-frame":"7.0.0","react":"16.8.6","chalk":"1.1.3"}}\n' >"$L/template/package.json"
tool() { # NAME LOCKFILE CMD...: install in $L/NAME with CMD
    local name=$1 lock=$2; shift 2
    mkdir -p "$L/$name/tree" "$L/$name/lock"
    cp "$L/template/package.json" "$L/$name/tree/"
    # berry: its own project root (an empty yarn.lock marks it), a node_modules tree
    case $name in berry) printf 'nodeLinker: node-modules\nenableTelemetry: false\n' >"$L/$name/tree/.yarnrc.yml"
        : >"$L/$name/tree/yarn.lock" ;; esac
    if ! (cd "$L/$name/tree" && timeout 300 "$@") >"$L/$name.log" 2>&1 || [ ! -s "$L/$name/tree/$lock" ]; then
        skip "$name lock file" "the tool or the npm registry is not there: $(tail -n 1 "$L/$name.log")"
        return
    fi
    cp "$L/$name/tree/package.json" "$L/$name/tree/$lock" "$L/$name/lock/"
    check "scan of the $name lock file alone" "${S[@]}" -o "$L/$name-lock.json" "dir:$L/$name/lock"
    check "scan of the tree $name installed" "${S[@]}" -o "$L/$name-tree.json" "dir:$L/$name/tree"
    echo "$name" >>"$L/done"
}
NPMQ=(--ignore-scripts --no-audit --no-fund --loglevel=error)
if command -v npm >/dev/null; then
    tool npm-v1 package-lock.json npm install "${NPMQ[@]}" --lockfile-version 1
    tool npm-v2 package-lock.json npm install "${NPMQ[@]}" --lockfile-version 2
    tool npm-v3 package-lock.json npm install "${NPMQ[@]}" --lockfile-version 3
    tool yarn-v1 yarn.lock npx --yes yarn@1 install --ignore-scripts --non-interactive --no-progress
    tool berry yarn.lock npx --yes -p @yarnpkg/cli-dist yarn install
    tool pnpm-8 pnpm-lock.yaml npx --yes pnpm@8 install --ignore-scripts
    tool pnpm-9 pnpm-lock.yaml npx --yes pnpm@9 install --ignore-scripts
else
    skip "lock files from the tools" "npm is not installed"
fi
if [ -f "$L/done" ]; then
relay < <("$PYTHON" - "$L" <<'PY'
import json, os, sys
L = sys.argv[1]
def installed(tree):
    # every package.json at an install location: node_modules/NAME or
    # node_modules/@SCOPE/NAME, at any depth (pnpm's .pnpm store included)
    got = set()
    for d, dirs, files in os.walk(os.path.join(tree, "node_modules")):
        parts = d.split(os.sep)
        if "package.json" in files and len(parts) >= 2 and (parts[-2] == "node_modules" or
                                                            (len(parts) >= 3 and parts[-3] == "node_modules" and parts[-2].startswith("@"))):
            j = json.load(open(os.path.join(d, "package.json")))
            if "name" in j and "version" in j:
                got.add((j["name"], j["version"]))
    return got
print("# %-8s %9s %10s %12s %7s %5s" % ("tool", "installed", "lock: got", "tree: got", "missing", "extra"))
for name in open(os.path.join(L, "done")).read().split():
    want = installed(os.path.join(L, name, "tree"))
    # the project's own package.json (name and version) is listed too, as
    # Trivy lists it
    root = json.load(open(os.path.join(L, name, "tree", "package.json")))
    if "name" in root and "version" in root:
        want.add((root["name"], root["version"]))
    lock = {(p["name"], p["version"]) for p in json.load(open(os.path.join(L, name + "-lock.json")))["packages"]}
    tree = {(p["name"], p["version"]) for p in json.load(open(os.path.join(L, name + "-tree.json")))["packages"]}
    print("# %-8s %9d %10d %12d %7d %5d" % (name, len(want), len(lock), len(tree), len(want - lock), len(lock - want)))
    for what, got in (("lock file alone", lock), ("installed tree", tree)):
        ok = got == want and len(want) >= 15
        print("%s - %s: the %s lists what it installed (%d packages)%s" % ("ok" if ok else "not ok", name, what, len(want),
              "" if ok else ": missing %s, extra %s" % (sorted(want - got), sorted(got - want))))
PY
)
fi

finish
