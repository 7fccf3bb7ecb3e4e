#!/usr/bin/env bash
# CVSS v4.0 scores, end to end: each vector goes into an OSV record,
# `bosun db build` compiles them, `bosun scan` reports each as a finding
# with its score, rating, vector and nomenclature.
#  - Red Hat's cvss library test vectors (1,694 with expected scores:
#    base, threat, environmental and supplemental metrics): all exact.
#  - every v4.0 base vector (104,976), and 20,000 random vectors with
#    threat, environmental and supplemental metrics, against
#    ae-cvss-calculator from the npm registry (pinned, installed in
#    ~/.cache/bosun-test): the number that disagree is printed and must be
#    0 (it rounds the exact value half up, as bosun and Red Hat's library
#    do; FIRST's calculator rounds the float, 0.1 lower on 522 base vectors).
#  - the RustSec advisories that carry only a v4.0 vector get scores and
#    ratings; a record with v3.1 and v4.0 is rated by v4.0, or by v3.1 with
#    --cvss-prefer v3; NVD enrichment keeps both as well.
#  - hostile vectors give no score.
set -u
. "$(dirname "$0")/../lib/common.sh"

T=$(tmpdir_new cvss4)
export XDG_CACHE_HOME="$T/xdg"
RH="$SHARED/data/oracles/cvss4/redhat-cvss-vectors"
RUSTSEC="$SHARED/data/oracles/osv-data/rustsec-osv/crates.io-rustsec-all.zip"
AE_VERSION=1.0.13
AE_DIR="${BOSUN_TEST_CACHE:-$HOME/.cache/bosun-test}/ae-cvss-calculator-$AE_VERSION"

# OSV records, one per vector, each affecting one of the npm packages
# cvss-t000..cvss-t255 1.0.0 (spread: one package with 100,000 findings
# makes the scan slow, as it compares each with the package's others)
# mkrecords DIR LISTING < "ID VECTOR" lines
MKREC_PY='
import json, os, sys
out, listing = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
with open(listing, "w") as lst:
    for i, line in enumerate(sys.stdin):
        rid, vec = line.split(None, 1)
        vec = vec.rstrip("\n")
        json.dump({"id": rid, "modified": "2024-01-01T00:00:00Z", "severity": [{"type": "CVSS_V4", "score": vec}],
                   "affected": [{"package": {"ecosystem": "npm", "name": "cvss-t%03d" % (i % 256)},
                                 "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]},
                  open(os.path.join(out, rid + ".json"), "w"))
        lst.write("%s %s\n" % (rid, vec))
'
mkrecords() { "$PYTHON" -c "$MKREC_PY" "$1" "$2"; }
for i in $(seq -w 0 255); do
    mkdir -p "$T/root/node_modules/cvss-t$i"
    printf '{"name":"cvss-t%s","version":"1.0.0"}\n' "$i" >"$T/root/node_modules/cvss-t$i/package.json"
done

# ---- Red Hat's vectors with expected scores
if [ ! -d "$RH" ]; then
    skip "Red Hat CVSS v4.0 vectors" "$RH missing"
else
    "$PYTHON" - "$RH" >"$T/rh.txt" <<'PY'
import os, re, sys
n = 0
for name in ("vectors_simple4", "vectors_security4", "vectors_supplemental4", "vectors_threat4"):
    for line in open(os.path.join(sys.argv[1], name)):
        if not line.strip():
            continue
        vec, _, want = line.strip().partition(" - ")
        # "7.3" or "(9.2,)": the score is the first number
        print("RH-%05d %s %s %s" % (n, name, re.search(r"\d+\.\d", want).group(0), vec))
        n += 1
PY
    awk '{print $1, $4}' "$T/rh.txt" | mkrecords "$T/rh" "$T/rh.list"
    n_rh=$(wc -l <"$T/rh.txt")
    [ "$n_rh" -eq 1694 ] && ok "Red Hat files hold 1694 v4.0 vectors" || fail "Red Hat vector count" "$n_rh"
    check "db build of the Red Hat vectors" "$BOSUN" db build --osv "$T/rh" -o "$T/rh.db"
    check "scan reports them" "$BOSUN" scan --db "$T/rh.db" --db-max-age 0 --format json -o "$T/rh.json" "dir:$T/root"
    "$PYTHON" - "$T/rh.json" "$T/rh.txt" <<'PY'
import json, sys
got = {f["id"]: f for f in json.load(open(sys.argv[1]))["findings"]}
def band(s):  # CVSS v4.0 qualitative severity ratings (as v3.x)
    return "NONE" if s == 0 else "LOW" if s < 4 else "MEDIUM" if s < 7 else "HIGH" if s < 9 else "CRITICAL"
THREAT = {"E"}
ENV = {"CR", "IR", "AR", "MAV", "MAC", "MAT", "MPR", "MUI", "MVC", "MVI", "MVA", "MSC", "MSI", "MSA"}
def nomenclature(vec):
    m = dict(x.split(":") for x in vec.split("/")[1:])
    t = any(m.get(k, "X") != "X" for k in THREAT)
    e = any(m.get(k, "X") != "X" for k in ENV)
    return "CVSS-B" + ("T" if t else "") + ("E" if e else "")
per, bad = {}, []
for line in open(sys.argv[2]):
    rid, name, want, vec = line.split()
    f = got.get(rid)
    per.setdefault(name, [0, 0])[1] += 1
    if f is None:
        bad.append("%s: no finding" % vec); continue
    errs = []
    if f.get("cvss_score") is None or "%.1f" % f["cvss_score"] != want:
        errs.append("score %s want %s" % (f.get("cvss_score"), want))
    if f.get("severity") != band(float(want)):
        errs.append("rating %s want %s" % (f.get("severity"), band(float(want))))
    if f.get("cvss_vector") != vec:
        errs.append("vector %s" % f.get("cvss_vector"))
    if f.get("cvss_nomenclature") != nomenclature(vec):
        errs.append("nomenclature %s want %s" % (f.get("cvss_nomenclature"), nomenclature(vec)))
    if errs:
        bad.append("%s: %s" % (vec, ", ".join(errs)))
    else:
        per[name][0] += 1
for name, (good, total) in sorted(per.items()):
    print(("ok" if good == total else "not ok") + " - %s: score, rating, vector and nomenclature exact on %d of %d" % (name, good, total))
noms = {}
for f in got.values():
    noms[f.get("cvss_nomenclature")] = noms.get(f.get("cvss_nomenclature"), 0) + 1
print("# nomenclatures: %s" % ", ".join("%s %d" % kv for kv in sorted(noms.items(), key=str)))
for x in bad[:10]:
    print("# " + x)
PY
fi

# ---- every v4.0 base vector against ae-cvss-calculator
"$PYTHON" - >"$T/all.txt" <<'PY'
import itertools
M = [("AV", "NALP"), ("AC", "LH"), ("AT", "NP"), ("PR", "NLH"), ("UI", "NPA"), ("VC", "HLN"), ("VI", "HLN"),
     ("VA", "HLN"), ("SC", "HLN"), ("SI", "HLN"), ("SA", "HLN")]
for i, c in enumerate(itertools.product(*[v for _, v in M])):
    print("B-%06d CVSS:4.0/%s" % (i, "/".join("%s:%s" % (m, x) for (m, _), x in zip(M, c))))
PY
n_all=$(wc -l <"$T/all.txt")
[ "$n_all" -eq 104976 ] && ok "104976 v4.0 base vectors enumerated" || fail "base vector count" "$n_all"
mkrecords "$T/all" "$T/all.list" <"$T/all.txt"
check "db build of every base vector" "$BOSUN" db build --osv "$T/all" -o "$T/all.db"
check "scan reports them" "$BOSUN" scan --db "$T/all.db" --db-max-age 0 --format json -o "$T/all.json" "dir:$T/root"
rm -rf "$T/all"
if ! [ -f "$AE_DIR/node_modules/ae-cvss-calculator/package.json" ] && command -v npm >/dev/null; then
    mkdir -p "$AE_DIR" && npm install --prefix "$AE_DIR" --no-audit --no-fund --silent "ae-cvss-calculator@$AE_VERSION" >/dev/null 2>&1
fi
if ! command -v node >/dev/null || ! [ -f "$AE_DIR/node_modules/ae-cvss-calculator/package.json" ]; then
    skip "ae-cvss-calculator comparison" "node or ae-cvss-calculator@$AE_VERSION not available (npm install into $AE_DIR)"
else
    # the oracle: "ID SCORE" for each vector
    awk '{print $2}' "$T/all.txt" | node -e '
const { Cvss4P0 } = require(process.argv[1] + "/node_modules/ae-cvss-calculator");
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l);
process.stdout.write(lines.map((v) => new Cvss4P0(v).calculateScores().overall.toFixed(1)).join("\n") + "\n");
' "$AE_DIR" >"$T/ae.txt"
    "$PYTHON" - "$T/all.json" "$T/all.txt" "$T/ae.txt" "$AE_VERSION" <<'PY'
import json, sys
got = {f["id"]: f for f in json.load(open(sys.argv[1]))["findings"]}
rows = [l.split() for l in open(sys.argv[2])]
ae = [l.strip() for l in open(sys.argv[3])]
def band(s):
    return "NONE" if s == 0 else "LOW" if s < 4 else "MEDIUM" if s < 7 else "HIGH" if s < 9 else "CRITICAL"
if len(ae) != len(rows):
    print("not ok - ae-cvss-calculator scored %d of %d vectors" % (len(ae), len(rows))); sys.exit()
disagree, rating, missing = [], 0, 0
for (rid, vec), want in zip(rows, ae):
    f = got.get(rid)
    if f is None or f.get("cvss_score") is None:
        missing += 1; continue
    if "%.1f" % f["cvss_score"] != want:
        disagree.append("%s bosun %.1f ae %s" % (vec, f["cvss_score"], want))
    if f["severity"] != band(f["cvss_score"]) or f.get("cvss_nomenclature") != "CVSS-B":
        rating += 1
print("# ae-cvss-calculator %s and bosun disagree on %d of %d v4.0 base vectors" % (sys.argv[4], len(disagree), len(rows)))
print(("ok" if not disagree and not missing else "not ok") +
      " - every v4.0 base vector: bosun's score = ae-cvss-calculator's (%d disagree, %d unscored)" % (len(disagree), missing))
print(("ok" if not rating else "not ok") + " - every v4.0 base vector: rating in the v4.0 band, nomenclature CVSS-B (%d wrong)" % rating)
for x in disagree[:10]:
    print("# " + x)
PY
fi
rm -f "$T/all.json" "$T/all.db"

# ---- 20,000 random vectors with threat, environmental and supplemental
# metrics (seeded), against ae-cvss-calculator too
"$PYTHON" - >"$T/rnd.txt" <<'PY'
import random
r = random.Random(48)
B = [("AV", "NALP"), ("AC", "LH"), ("AT", "NP"), ("PR", "NLH"), ("UI", "NPA"), ("VC", "HLN"), ("VI", "HLN"),
     ("VA", "HLN"), ("SC", "HLN"), ("SI", "HLN"), ("SA", "HLN")]
O = [("E", "XAPU"), ("CR", "XHML"), ("IR", "XHML"), ("AR", "XHML"), ("MAV", "XNALP"), ("MAC", "XLH"), ("MAT", "XNP"),
     ("MPR", "XNLH"), ("MUI", "XNPA"), ("MVC", "XHLN"), ("MVI", "XHLN"), ("MVA", "XHLN"), ("MSC", "XHLN"),
     ("MSI", "XSHLN"), ("MSA", "XSHLN"), ("S", "XNP"), ("AU", "XNY"), ("R", "XAUI"), ("V", "XDC"), ("RE", "XLMH")]
for i in range(20000):
    parts = ["%s:%s" % (k, r.choice(v)) for k, v in B]
    parts += ["%s:%s" % (k, r.choice(v)) for k, v in O if r.random() < 0.5]
    if r.random() < 0.2:
        parts.append("U:" + r.choice(["X", "Clear", "Green", "Amber", "Red"]))
    if r.random() < 0.1:
        r.shuffle(parts)  # metrics in any order
    print("R-%05d CVSS:4.0/%s" % (i, "/".join(parts)))
PY
mkrecords "$T/rnd" "$T/rnd.list" <"$T/rnd.txt"
check "db build of 20000 random full vectors" "$BOSUN" db build --osv "$T/rnd" -o "$T/rnd.db"
check "scan reports them" "$BOSUN" scan --db "$T/rnd.db" --db-max-age 0 --format json -o "$T/rnd.json" "dir:$T/root"
if command -v node >/dev/null && [ -f "$AE_DIR/node_modules/ae-cvss-calculator/package.json" ]; then
    awk '{print $2}' "$T/rnd.txt" | node -e '
const { Cvss4P0 } = require(process.argv[1] + "/node_modules/ae-cvss-calculator");
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l);
process.stdout.write(lines.map((v) => new Cvss4P0(v).calculateScores().overall.toFixed(1)).join("\n") + "\n");
' "$AE_DIR" >"$T/rnd.ae"
    "$PYTHON" - "$T/rnd.json" "$T/rnd.txt" "$T/rnd.ae" <<'PY'
import json, sys
got = {f["id"]: f for f in json.load(open(sys.argv[1]))["findings"]}
rows = [l.split() for l in open(sys.argv[2])]
ae = [l.strip() for l in open(sys.argv[3])]
bad = [(v, got.get(rid, {}).get("cvss_score"), a) for (rid, v), a in zip(rows, ae)
       if got.get(rid, {}).get("cvss_score") is None or "%.1f" % got[rid]["cvss_score"] != a]
noms = {}
for f in got.values():
    noms[f.get("cvss_nomenclature")] = noms.get(f.get("cvss_nomenclature"), 0) + 1
print("# ae-cvss-calculator and bosun disagree on %d of %d random vectors (%s)"
      % (len(bad), len(rows), ", ".join("%s %d" % kv for kv in sorted(noms.items(), key=str))))
print(("ok" if len(ae) == len(rows) and not bad else "not ok") + " - random full vectors: bosun's score = ae-cvss-calculator's (%d disagree)" % len(bad))
for x in bad[:10]:
    print("# %s bosun %s ae %s" % x)
PY
else
    skip "ae-cvss-calculator on random full vectors" "not available"
fi
rm -rf "$T/rnd" "$T/rnd.json" "$T/rnd.db"

# ---- RustSec: the records with only a v4.0 vector
if [ ! -f "$RUSTSEC" ]; then
    skip "RustSec v4.0-only records" "$RUSTSEC missing"
else
    mkdir -p "$T/rs/root"
    check "db build of the RustSec dump" "$BOSUN" db build --osv "$RUSTSEC" -o "$T/rs.db"
    # a Cargo.lock with each v4-only record's crate at a version its first range affects
    "$PYTHON" - "$RUSTSEC" "$T/rs/root/Cargo.lock" "$T/rs/v4only.txt" <<'PY'
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
pk, rows = {}, []
for n in z.namelist():
    if not n.endswith(".json"):
        continue
    r = json.loads(z.read(n))
    types = {s.get("type") for s in r.get("severity", [])}
    if types != {"CVSS_V4"} or r.get("withdrawn"):
        continue
    vec = [s["score"] for s in r["severity"] if s["type"] == "CVSS_V4"][0]
    a = r["affected"][0]
    ev = a["ranges"][0]["events"] if a.get("ranges") else []
    intro = next((e["introduced"] for e in ev if "introduced" in e), "0")
    ver = "0.0.0" if intro in ("0", "0.0.0-0") else intro
    rows.append((r["id"], a["package"]["name"], ver, vec))
    pk[(a["package"]["name"], ver)] = 1
with open(sys.argv[2], "w") as f:
    f.write("version = 3\n\n")
    for name, ver in sorted(pk):
        f.write('[[package]]\nname = "%s"\nversion = "%s"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n\n' % (name, ver))
with open(sys.argv[3], "w") as f:
    for row in rows:
        f.write(" ".join(row) + "\n")
PY
    n_v4=$(wc -l <"$T/rs/v4only.txt")
    [ "$n_v4" -eq 57 ] && ok "57 RustSec records carry only a CVSS v4.0 vector" || fail "v4-only count" "$n_v4"
    check "scan of their crates" "$BOSUN" scan --db "$T/rs.db" --db-max-age 0 --format json -o "$T/rs.json" "dir:$T/rs/root"
    if command -v node >/dev/null && [ -f "$AE_DIR/node_modules/ae-cvss-calculator/package.json" ]; then
        awk '{print $4}' "$T/rs/v4only.txt" | node -e '
const { Cvss4P0 } = require(process.argv[1] + "/node_modules/ae-cvss-calculator");
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l);
process.stdout.write(lines.map((v) => new Cvss4P0(v).calculateScores().overall.toFixed(1)).join("\n") + "\n");
' "$AE_DIR" >"$T/rs/ae.txt"
    else
        : >"$T/rs/ae.txt"
    fi
    "$PYTHON" - "$T/rs.json" "$T/rs/v4only.txt" "$T/rs/ae.txt" <<'PY'
import json, sys
got = {}
for f in json.load(open(sys.argv[1]))["findings"]:
    got.setdefault(f["id"], f)
rows = [l.split() for l in open(sys.argv[2])]
ae = [l.strip() for l in open(sys.argv[3])]
def band(s):
    return "NONE" if s == 0 else "LOW" if s < 4 else "MEDIUM" if s < 7 else "HIGH" if s < 9 else "CRITICAL"
found = [r for r in rows if r[0] in got]
rated = [r for r in found if got[r[0]].get("cvss_score") is not None and got[r[0]]["severity"] == band(got[r[0]]["cvss_score"])
         and got[r[0]].get("cvss_vector") == r[3]]
print(("ok" if len(found) == len(rows) else "not ok") + " - scan finds %d of the %d v4-only RustSec records" % (len(found), len(rows)))
print(("ok" if len(rated) == len(rows) else "not ok") + " - %d of %d have a v4.0 score, vector and rating" % (len(rated), len(rows)))
if ae:
    agree = [r for r, a in zip(rows, ae) if r[0] in got and got[r[0]].get("cvss_score") is not None
             and "%.1f" % got[r[0]]["cvss_score"] == a]
    print(("ok" if len(agree) == len(rows) else "not ok") + " - their scores = ae-cvss-calculator's on %d of %d" % (len(agree), len(rows)))
sevs = {}
for r in found:
    sevs[got[r[0]]["severity"]] = sevs.get(got[r[0]]["severity"], 0) + 1
print("# RustSec v4-only ratings: %s" % ", ".join("%s %d" % kv for kv in sorted(sevs.items())))
f = got.get("RUSTSEC-2025-0149", {})
print(("ok" if f.get("cvss_score") == 7.3 and f.get("severity") == "HIGH" else "not ok") +
      " - RUSTSEC-2025-0149 is 7.3 HIGH (%s %s)" % (f.get("cvss_score"), f.get("severity")))
PY
fi

# ---- a record with v3.1 and v4.0: v4.0 decides unless --cvss-prefer v3
mkdir -p "$T/both"
V3="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"         # 9.8 CRITICAL
V4="CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" # 7.3 HIGH
V4E="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/CR:L/IR:L/AR:L" # threat and environmental
cat >"$T/both/BOTH-1.json" <<EOF
{"id": "BOTH-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2099-0001"],
 "severity": [{"type": "CVSS_V3", "score": "$V3"}, {"type": "CVSS_V4", "score": "$V4"}],
 "affected": [{"package": {"ecosystem": "npm", "name": "cvss-t000"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}
EOF
cat >"$T/both/BTE-1.json" <<EOF
{"id": "BTE-1", "modified": "2024-01-01T00:00:00Z",
 "severity": [{"type": "CVSS_V4", "score": "$V4E"}],
 "affected": [{"package": {"ecosystem": "npm", "name": "cvss-t000"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}
EOF
# NVD enrichment: a record without a rating, NVD has v3.1 and v4.0 for its CVE
cat >"$T/both/NVD-1.json" <<EOF
{"id": "NVD-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2099-0002"],
 "affected": [{"package": {"ecosystem": "npm", "name": "cvss-t000"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}
EOF
cat >"$T/nvd.json" <<EOF
{"vulnerabilities": [{"cve": {"id": "CVE-2099-0002", "metrics": {
  "cvssMetricV31": [{"cvssData": {"vectorString": "$V3", "baseScore": 9.8, "baseSeverity": "CRITICAL"}}],
  "cvssMetricV40": [{"cvssData": {"vectorString": "$V4", "baseScore": 7.3, "baseSeverity": "HIGH"}}]}}}]}
EOF
check "db build with v3.1 + v4.0 records and NVD" "$BOSUN" db build --osv "$T/both" --nvd "$T/nvd.json" -o "$T/both.db"
check "scan (default)" "$BOSUN" scan --db "$T/both.db" --db-max-age 0 --format json -o "$T/both4.json" "dir:$T/root"
check "scan --cvss-prefer v3" "$BOSUN" scan --db "$T/both.db" --db-max-age 0 --cvss-prefer v3 --format json -o "$T/both3.json" "dir:$T/root"
expect_exit 1 "scan --cvss-prefer v4 --fail-on low: JUnit, SARIF, CycloneDX" "$BOSUN" scan --db "$T/both.db" --db-max-age 0 \
    --cvss-prefer v4 --fail-on low --format junit -o "$T/both4.xml" --format sarif -o "$T/both4.sarif" \
    --format cyclonedx -o "$T/both4.cdx" "dir:$T/root"
"$PYTHON" - "$T/both4.json" "$T/both3.json" "$V3" "$V4" "$V4E" <<'PY'
import json, sys
d4 = {f["id"]: f for f in json.load(open(sys.argv[1]))["findings"]}
d3 = {f["id"]: f for f in json.load(open(sys.argv[2]))["findings"]}
v3, v4, v4e = sys.argv[3:6]
def show(f):
    return "%s %s %s %s" % (f.get("cvss_score"), f.get("severity"), f.get("cvss_vector"), f.get("cvss_nomenclature"))
def check(name, f, score, sev, vec, nom):
    good = f.get("cvss_score") == score and f.get("severity") == sev and f.get("cvss_vector") == vec and f.get("cvss_nomenclature") == nom
    print(("ok" if good else "not ok") + " - %s (%s)" % (name, show(f)))
check("v3.1 + v4.0 record: v4.0 decides by default", d4["BOTH-1"], 7.3, "HIGH", v4, "CVSS-B")
check("v3.1 + v4.0 record: --cvss-prefer v3 gives v3.1", d3["BOTH-1"], 9.8, "CRITICAL", v3, None)
check("NVD enrichment with v3.1 + v4.0: v4.0 by default", d4["NVD-1"], 7.3, "HIGH", v4, "CVSS-B")
check("NVD enrichment: --cvss-prefer v3 gives v3.1", d3["NVD-1"], 9.8, "CRITICAL", v3, None)
# AV:N/.../VC:H/VI:H/VA:H with E:U and CR/IR/AR:L: 6.5 by ae-cvss-calculator 1.0.13
check("threat + environmental metrics: CVSS-BTE", d4["BTE-1"], 6.5, "MEDIUM", v4e, "CVSS-BTE")
check("a v4.0-only record under --cvss-prefer v3 keeps v4.0", d3["BTE-1"], 6.5, "MEDIUM", v4e, "CVSS-BTE")
PY
grep -q "CVSS-B 7.3 $V4" "$T/both4.xml" && ok "JUnit failure text carries nomenclature, score and vector" || fail "JUnit CVSS text" "$(grep -m3 failure "$T/both4.xml")"
"$PYTHON" - "$T/both4.sarif" "$T/both4.cdx" "$V4" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rules = {r["id"]: r["properties"] for r in s["runs"][0]["tool"]["driver"]["rules"]}
p = rules.get("BOTH-1", {})
print(("ok" if p.get("security-severity") == "7.3" and p.get("cvss-vector") == sys.argv[3] and p.get("cvss-nomenclature") == "CVSS-B" else "not ok")
      + " - SARIF rule properties carry score, vector, nomenclature (%s)" % p)
c = json.load(open(sys.argv[2]))
r = [v["ratings"][0] for v in c["vulnerabilities"] if v["id"] == "BOTH-1"]
print(("ok" if r and r[0].get("method") == "CVSSv4" and r[0].get("score") == 7.3 and r[0].get("vector") == sys.argv[3] else "not ok")
      + " - CycloneDX rating method CVSSv4 (%s)" % r)
PY
# ---- ship: the same record through build -> scan -> gate -> reports
mkdir -p "$T/ctx/node_modules/cvss-t000"
cp "$T/root/node_modules/cvss-t000/package.json" "$T/ctx/node_modules/cvss-t000/"
printf 'FROM scratch\nCOPY node_modules /node_modules\n' >"$T/ctx/Dockerfile"
expect_exit 0 "ship: v4.0 rates BOTH-1 HIGH, the gate at critical passes" "$BOSUN" ship --no-push --output "oci:$T/out" \
    --db "$T/both.db" --db-max-age 0 --fail-on critical --report-dir "$T/rep4" "$T/ctx"
expect_exit 1 "ship --cvss-prefer v3: v3.1 rates it CRITICAL, the gate fails" "$BOSUN" ship --no-push --output "oci:$T/out" \
    --db "$T/both.db" --db-max-age 0 --fail-on critical --cvss-prefer v3 --report-dir "$T/rep3" "$T/ctx"
check "ship --from-results renders the v4.0 results again" "$BOSUN" ship --from-results "$T/rep4/results.json" --report-dir "$T/rep4b"
"$PYTHON" - "$T" "$V3" "$V4" <<'PY'
import html, json, re, sys
t, v3, v4 = sys.argv[1:4]
for rep, score, vec, nom in (("rep4", 7.3, v4, "CVSS-B"), ("rep3", 9.8, v3, None), ("rep4b", 7.3, v4, "CVSS-B")):
    r = {f["id"]: f for f in json.load(open("%s/%s/results.json" % (t, rep)))["findings"]}.get("BOTH-1", {})
    good = r.get("cvssScore") == score and r.get("cvssVector") == vec and r.get("cvssNomenclature") == nom
    print(("ok" if good else "not ok") + " - %s/results.json: cvssScore, cvssVector, cvssNomenclature (%s %s %s)"
          % (rep, r.get("cvssScore"), r.get("cvssVector"), r.get("cvssNomenclature")))
    page = open("%s/%s/report.html" % (t, rep)).read()
    m = re.search(r'<span class="cvss mono" title="([^"]*)">([^<]*)</span>', page)
    want = "%.1f%s" % (score, " " + nom if nom else "")
    print(("ok" if m and html.unescape(m.group(1)) == vec and m.group(2) == want else "not ok")
          + " - %s/report.html shows %s with the vector (%s)" % (rep, want, m.groups() if m else None))
junit = open("%s/rep3/junit.xml" % t).read()
print(("ok" if "; CVSS 9.8 " + v3 in junit else "not ok") + " - ship's JUnit failure carries score and vector")
PY
expect_exit 2 "--cvss-prefer v5 is a usage error" "$BOSUN" scan --db "$T/both.db" --cvss-prefer v5 "dir:$T/root"
expect_out "one-line message" 'bad --cvss-prefer "v5" \(v4 or v3\)'

# ---- hostile vectors: no score, the record stays unrated
B="AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
"$PYTHON" - "$B" >"$T/hostile.txt" <<'PY'
import sys
b = sys.argv[1]
bad = ["CVSS:4.0/", "CVSS:4.0", "CVSS:4.0/" + b + "/", "CVSS:4.0//" + b, "CVSS:4.0/" + b + "/AV:N",
       "CVSS:4.0/" + b.replace("AV:N", "AV:X"), "CVSS:4.0/" + b.replace("AV:N/", ""), "CVSS:4.0/" + b + "/E:Q",
       "CVSS:4.0/" + b + "/MSI:S/MSI:S", "CVSS:4.0/" + b.replace("SI:N", "SI:S"), "CVSS:4.0/" + b + "/ZZ:1",
       "CVSS:4.0/" + b + "/U:clear", "CVSS:4.0/" + b + "/E", "CVSS:4.0/" + b + "/:A", "CVSS:4.0/" + b + "/E:",
       "CVSS:4.1/" + b, "CVSS:4.0/" + b.replace("/", " / "), "CVSS:4.0/" + b + "/E:A\u0001",
       "CVSS:4.0/" + b + "/" + "E:A/" * 2000, "CVSS:4.0/" + b.lower(), "CVSS:4.0/" + b + "/AVV:N", "CVSS:4.0/AV:NN" + b[4:]]
for i, v in enumerate(bad):
    print("HOSTILE-%02d %s" % (i, v.replace("\n", " ")))
PY
mkrecords "$T/hostile" "$T/hostile.list" <"$T/hostile.txt"
check "db build with hostile vectors" "$BOSUN" db build --osv "$T/hostile" -o "$T/hostile.db"
check "scan" "$BOSUN" scan --db "$T/hostile.db" --db-max-age 0 --format json -o "$T/hostile.json" "dir:$T/root"
"$PYTHON" - "$T/hostile.json" "$T/hostile.txt" <<'PY'
import json, sys
got = {f["id"]: f for f in json.load(open(sys.argv[1]))["findings"]}
rows = [l.split(" ", 1) for l in open(sys.argv[2])]
bad = [r for r in rows if r[0] not in got or "cvss_score" in got[r[0]] or got[r[0]]["severity"] != "UNKNOWN"]
print(("ok" if not bad else "not ok") + " - %d hostile v4.0 vectors: reported, unscored, UNKNOWN (%d wrong)" % (len(rows), len(bad)))
for r in bad[:5]:
    print("# %s %s" % (r[1].strip()[:100], got.get(r[0])))
PY
finish
