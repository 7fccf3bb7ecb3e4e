#!/usr/bin/env bash
# Load: bosun base watch over 2,000 images in a local registry (a base
# update flags exactly the images built on it; open descriptors stay
# bounded and peak memory does not grow with the fleet: 200 vs 2,000);
# 20 concurrent copies of one image into 20 repositories (registry
# contents checked blob by blob); the same through a proxy answering 429
# to half the requests (every run succeeds, and the proxy's timestamps
# show each retry waited for Retry-After). Figures go out as '# ' lines.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

T=$(tmpdir_new load)
N_BIG=${LOAD_IMAGES:-2000}
N_SMALL=$((N_BIG / 10))
unset BOSUN_USERNAME BOSUN_PASSWORD REGISTRY_AUTH_FILE TF_BUILD JENKINS_URL GITHUB_OUTPUT GITHUB_STEP_SUMMARY
export DOCKER_CONFIG="$T/no-docker-config" BOSUN_PROGRESS=none
mkdir -p "$DOCKER_CONFIG"
registry_start_open
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
peak_kb() { sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$1"; }

# ---------------------------------------------------------------- the fleet
# Two bases (a, and b = a plus one file); an app built with bosun on each,
# so its manifest records the base. The fleet is N_BIG images: N_BIG/10
# repositories with 10 tags each, every tag its own manifest (the app
# manifest plus a title annotation, so every image has its own digest), a
# tenth of them, spread over the repositories, on base b. Blobs are mounted
# from the source repositories, so the fleet costs one PUT per image (and
# fewer files in the registry's storage than 2,000 repositories would).
make_busybox_oci "$T/bb" 1 >/dev/null
mkdir -p "$T/bctx" "$T/app" "$T/b2"
echo b >"$T/bctx/b.txt"
printf 'FROM oci:%s/bb:1\nCOPY b.txt /b.txt\n' "$T" >"$T/bctx/Dockerfile"
echo hello >"$T/app/hello.txt"
printf 'ARG BASE\nFROM $BASE\nCOPY hello.txt /hello.txt\n' >"$T/app/Dockerfile"
setup_ok=1
"$BOSUN" -q copy "oci:$T/bb:1" "$REG/base/a:1" >/dev/null 2>"$T/err" || setup_ok=0
"$BOSUN" -q build -t "$REG/base/b:1" --push "$T/bctx" >/dev/null 2>>"$T/err" || setup_ok=0
for x in a b; do
    "$BOSUN" -q build --build-arg BASE="$REG/base/$x:1" -t "$REG/src/on-$x:1" --push "$T/app" >/dev/null 2>>"$T/err" || setup_ok=0
done
[ "$setup_ok" = 1 ] && ok "two bases and an app on each, built and pushed by bosun" || fail "setup" "$(cat "$T/err")"

t0=$(now)
"$PYTHON" - "$REG" "$N_BIG" "$T/fleet-big.txt" "$T/on-b.txt" <<'PY' >"$T/fleet.log" 2>&1
import http.client, json, sys, threading
reg, n, fleet_path, on_b_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
host, port = reg.split(":")
MT = "application/vnd.oci.image.manifest.v1+json"
nrepo = max(1, n // 10)

def conn():
    return http.client.HTTPConnection(host, int(port), timeout=60)

def req(c, method, path, body=None, headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    return r.status, data

c = conn()
src = {}
for x in "ab":
    st, body = req(c, "GET", f"/v2/src/on-{x}/manifests/1", headers={"Accept": MT})
    assert st == 200, (st, body)
    m = json.loads(body)
    assert m["annotations"]["org.opencontainers.image.base.name"] == f"{reg}/base/{x}:1", m
    src[x] = m

def where(i):  # image i: repository, tag
    return f"fleet/app{i % nrepo:04d}", f"t{i // nrepo}"

def on_b(i):
    return (i // nrepo + i) % 10 == 3

def work(lo, hi, errors):
    c = conn()
    try:
        for r in range(lo, hi):
            repo = f"fleet/app{r:04d}"
            for x in "ab":
                m = src[x]
                for d in [m["config"]["digest"]] + [l["digest"] for l in m["layers"]]:
                    st, body = req(c, "POST", f"/v2/{repo}/blobs/uploads/?mount={d}&from=src/on-{x}",
                                   body=b"", headers={"Content-Length": "0"})
                    if st != 201:
                        raise RuntimeError(f"mount {d} into {repo}: HTTP {st} {body[:200]!r}")
        for i in range(n):
            if not lo <= i % nrepo < hi:
                continue
            repo, tag = where(i)
            m = json.loads(json.dumps(src["b" if on_b(i) else "a"]))
            m["annotations"]["org.opencontainers.image.title"] = f"{repo}:{tag}"
            st, body = req(c, "PUT", f"/v2/{repo}/manifests/{tag}", body=json.dumps(m).encode(),
                           headers={"Content-Type": MT})
            if st != 201:
                raise RuntimeError(f"PUT {repo}:{tag}: HTTP {st} {body[:200]!r}")
    except Exception as e:
        errors.append(str(e))

errors, threads, k = [], [], 4
for t in range(k):
    th = threading.Thread(target=work, args=(t * nrepo // k, (t + 1) * nrepo // k, errors))
    th.start()
    threads.append(th)
for th in threads:
    th.join()
if errors:
    sys.exit("\n".join(errors[:5]))
with open(fleet_path, "w") as f:
    f.write("# load test fleet\n")
    for i in range(n):
        f.write("%s/%s:%s\n" % ((reg,) + where(i)))
with open(on_b_path, "w") as f:
    for i in range(n):
        if on_b(i):
            f.write("%s/%s:%s\n" % ((reg,) + where(i)))
PY
rc=$?
t1=$(now)
if [ "$rc" -eq 0 ]; then
    ok "$N_BIG images ($((N_BIG / 10)) repositories x 10 tags) pushed through the registry API"
    diag "setup: $N_BIG images pushed in $(secs "$t0" "$t1") s"
else
    fail "pushing $N_BIG images" "$(tail -5 "$T/fleet.log")"
fi
head -n $((N_SMALL + 1)) "$T/fleet-big.txt" >"$T/fleet-small.txt"

# watch_measured NAME FLEET REPORT_DIR [ARGS...]: run base watch under
# /usr/bin/time -v, sampling /proc/PID/fd every 20 ms; sets W_RC, W_SECS,
# W_RSS (KiB), W_FDMAX, W_FDSAMPLES and W_OUT.
watch_measured() {
    local name=$1 fleet=$2 rep=$3 tpid pid="" fds max=0 n=0 t0 t1
    shift 3
    t0=$(now)
    /usr/bin/time -v -o "$T/$name.time" "$BOSUN" base watch --images "$fleet" --report-dir "$rep" "$@" \
        >"$T/$name.out" 2>"$T/$name.err" &
    tpid=$!
    while kill -0 "$tpid" 2>/dev/null; do
        [ -n "$pid" ] || pid=$(pgrep -P "$tpid" 2>/dev/null | head -n1)
        if [ -n "$pid" ] && [ -d "/proc/$pid/fd" ]; then
            fds=(/proc/"$pid"/fd/*)
            if [ -e "${fds[0]}" ]; then
                n=$((n + 1))
                [ "${#fds[@]}" -gt "$max" ] && max=${#fds[@]}
            fi
        fi
        sleep 0.02
    done
    wait "$tpid"
    W_RC=$?
    t1=$(now)
    W_SECS=$(secs "$t0" "$t1")
    W_RSS=$(peak_kb "$T/$name.time")
    W_FDMAX=$max
    W_FDSAMPLES=$n
    W_OUT=$(cat "$T/$name.out")
}

# Before the update: everything is current.
watch_measured pre "$T/fleet-big.txt" "$T/pre"
OUT=$W_OUT RC=$W_RC
[ "$RC" -eq 0 ] && ok "watch over $N_BIG images before the update: exit 0" || fail "watch before the update" "exit $RC" "$(tail -5 "$T/pre.err")"
expect_out "before the update: all $N_BIG up to date" "^$N_BIG images \(shard 1/1\): 0 stale, $N_BIG up-to-date, 0 unknown, 0 errors$"
diag "watch $N_BIG images (all current): ${W_SECS} s, peak RSS ${W_RSS} KiB, max fds ${W_FDMAX} (${W_FDSAMPLES} samples)"

# The update: base b moves to a new manifest.
echo v2 >"$T/b2/v2"
printf 'FROM %s/base/b:1\nCOPY v2 /v2\n' "$REG" >"$T/b2/Dockerfile"
check "base b:1 updated" "$BOSUN" -q build -t "$REG/base/b:1" --push "$T/b2"
NEWB=$(printf '%s\n' "$OUT" | tail -n1)

watch_measured small "$T/fleet-small.txt" "$T/small"
S_SECS=$W_SECS S_RSS=$W_RSS S_FD=$W_FDMAX S_N=$W_FDSAMPLES
OUT=$W_OUT
[ "$W_RC" -eq 0 ] && ok "watch over $N_SMALL images after the update: exit 0" || fail "watch $N_SMALL" "exit $W_RC" "$(tail -5 "$T/small.err")"
expect_out "$N_SMALL images: a tenth stale" "^$N_SMALL images \(shard 1/1\): $((N_SMALL / 10)) stale, $((N_SMALL - N_SMALL / 10)) up-to-date, 0 unknown, 0 errors$"

watch_measured big "$T/fleet-big.txt" "$T/big" --fail-if-stale
B_SECS=$W_SECS B_RSS=$W_RSS B_FD=$W_FDMAX B_N=$W_FDSAMPLES
OUT=$W_OUT
[ "$W_RC" -eq 1 ] && ok "watch over $N_BIG images after the update: --fail-if-stale exits 1" || fail "watch $N_BIG" "exit $W_RC" "$(tail -5 "$T/big.err")"
expect_out "$N_BIG images: a tenth stale" "^$N_BIG images \(shard 1/1\): $((N_BIG / 10)) stale, $((N_BIG - N_BIG / 10)) up-to-date, 0 unknown, 0 errors$"
check "watch.json: the stale images are exactly those on base b, each with the new digest" \
    "$PYTHON" - "$T/big/watch.json" "$T/on-b.txt" "$NEWB" "$REG/base/b:1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = {l.strip() for l in open(sys.argv[2]) if l.strip()}
stale = {i["image"] for i in d["images"] if i["status"] == "stale"}
assert stale == want, (len(stale), len(want), sorted(stale ^ want)[:5])
for i in d["images"]:
    if i["status"] == "stale":
        assert i["current"]["digest"] == sys.argv[3] and i["base"]["name"] == sys.argv[4], i
    else:
        assert i["status"] == "up-to-date" and i["base"]["name"].endswith("/base/a:1"), i
assert len(d["images"]) == len({i["image"] for i in d["images"]})
PY
check "JUnit: $N_BIG testcases, $((N_BIG / 10)) failures" "$PYTHON" - "$T/big/junit.xml" "$N_BIG" <<'PY'
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot().find("testsuite")
n = int(sys.argv[2])
cases = s.findall("testcase")
assert len(cases) == n and sum(c.find("failure") is not None for c in cases) == n // 10, len(cases)
PY

diag "watch $N_SMALL images:  ${S_SECS} s, peak RSS ${S_RSS} KiB, max fds ${S_FD} (${S_N} samples)"
diag "watch $N_BIG images: ${B_SECS} s, peak RSS ${B_RSS} KiB, max fds ${B_FD} (${B_N} samples)"
# Eight workers (the default --jobs) each hold an image and a base client:
# the descriptors depend on that, not on the fleet.
if [ "$B_N" -gt 10 ] && [ "$S_N" -gt 0 ] && [ "$B_FD" -le 64 ] && [ "$B_FD" -le $((S_FD + 8)) ]; then
    ok "open descriptors bounded: max $B_FD at $N_BIG images vs $S_FD at $N_SMALL"
else
    fail "open descriptors bounded" "max $B_FD at $N_BIG images ($B_N samples) vs $S_FD at $N_SMALL ($S_N samples)"
fi
if [ -n "$S_RSS" ] && [ -n "$B_RSS" ] && [ "$B_RSS" -lt $((S_RSS * 3)) ]; then
    ok "peak memory does not grow with the fleet: ${B_RSS} KiB vs ${S_RSS} KiB ($(awk -v a="$B_RSS" -v b="$S_RSS" 'BEGIN{printf "%.2f", a/b}')x for 10x images)"
else
    fail "peak memory does not grow with the fleet" "${B_RSS:-?} KiB at $N_BIG vs ${S_RSS:-?} KiB at $N_SMALL"
fi

# ----------------------------------------------------- 20 concurrent copies
make_multilayer_oci "$T/ml" 2 2 1 >/dev/null
WANT_M=$IMG_MANIFEST_DIGEST
ML_BLOBS="$IMG_CONFIG_DIGEST $IMG_LAYER_DIGESTS"

# copies TARGET PREFIX [ARGS...]: 20 bosun copy of one image at once,
# each under /usr/bin/time -v; sets C_SECS, C_FAILS, C_RSS (max KiB).
copies() {
    local target=$1 prefix=$2 i pids=() t0 t1 r
    shift 2
    t0=$(now)
    for i in $(seq -w 1 20); do
        /usr/bin/time -v -o "$T/$prefix$i.time" "$BOSUN" copy "$@" "oci:$T/ml:1" "$target/$prefix/r$i:1" \
            >"$T/$prefix$i.out" 2>"$T/$prefix$i.err" &
        pids+=($!)
    done
    C_FAILS=0
    for i in "${pids[@]}"; do wait "$i" || C_FAILS=$((C_FAILS + 1)); done
    t1=$(now)
    C_SECS=$(secs "$t0" "$t1")
    C_RSS=0
    for i in $(seq -w 1 20); do
        r=$(peak_kb "$T/$prefix$i.time")
        [ "${r:-0}" -gt "$C_RSS" ] && C_RSS=$r
    done
}

# verify_repos PREFIX: every repository holds the manifest at its digest
# and every blob with the right bytes, read straight from the registry.
verify_repos() {
    "$PYTHON" - "$REG" "$1" "$WANT_M" $ML_BLOBS <<'PY'
import hashlib, http.client, sys
reg, prefix, want = sys.argv[1:4]
blobs = sys.argv[4:]
host, port = reg.split(":")
c = http.client.HTTPConnection(host, int(port), timeout=60)
for i in range(1, 21):
    repo = f"{prefix}/r{i:02d}"
    c.request("GET", f"/v2/{repo}/manifests/1", headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    r = c.getresponse(); body = r.read()
    got = "sha256:" + hashlib.sha256(body).hexdigest()
    assert r.status == 200 and got == want, (repo, r.status, got)
    for d in blobs:
        c.request("GET", f"/v2/{repo}/blobs/{d}")
        r = c.getresponse(); body = r.read()
        assert r.status == 200 and "sha256:" + hashlib.sha256(body).hexdigest() == d, (repo, d, r.status)
PY
}

copies "$REG" cp
[ "$C_FAILS" -eq 0 ] && ok "20 concurrent copies all succeed" || fail "20 concurrent copies" "$C_FAILS failed" "$(cat "$T"/cp*.err | tail -10)"
check "registry holds the image in all 20 repositories (manifest and every blob checked)" verify_repos cp
check "skopeo reads one of them" skopeo inspect --tls-verify=false --raw "docker://$REG/cp/r07:1"
diag "20 concurrent copies (2 x 2 MiB layers): ${C_SECS} s wall, max peak RSS ${C_RSS} KiB per process"

# ------------------------------------- the same through 429 to half the requests
# The proxy logs every request with its arrival time (--timestamps, -v).
faultproxy_start --mode 429 --rate 0.5 --seed 82 --timestamps -v
copies "$PROXY" rl --retries 20
[ "$C_FAILS" -eq 0 ] && ok "20 concurrent copies through 429s all succeed" || fail "20 copies through 429s" "$C_FAILS failed" "$(cat "$T"/rl*.err | tail -10)"
check "registry holds the image in all 20 repositories" verify_repos rl
N429=$(grep -c '^FAULT .* 429 ' "$PROXY_LOG")
NREQ=$(grep -cE '^(FAULT|PASS) ' "$PROXY_LOG")
# Each fault is keyed by what a retry repeats: the same manifest request,
# or, for a blob (a retry starts the blob over from its HEAD), the blob's
# digest. The next request with that key must come >= 1 s (Retry-After)
# later. A POST that opens an upload names no blob, so it cannot be tied
# to its retry when blobs go up in parallel; those are counted apart.
"$PYTHON" - "$PROXY_LOG" >"$T/retry.txt" 2>&1 <<'PY'
import re, sys
from urllib.parse import urlsplit, parse_qs
ev = []
for line in open(sys.argv[1]):
    m = re.match(r"^(FAULT #\d+ 429|PASS) (\S+) (\S+).* t=(\d+\.\d+)$", line.rstrip("\n"))
    if m:
        ev.append((float(m.group(4)), m.group(1).startswith("FAULT"), m.group(2), m.group(3)))
ev.sort()
def key(method, path):
    u = urlsplit(path)
    p = u.path
    m = re.match(r"^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$", p)
    if m:
        return ("blob", m.group(1), m.group(2))
    m = re.match(r"^/v2/(.+)/blobs/uploads/[^/]+$", p)
    if m and method == "PUT":
        return ("blob", m.group(1), parse_qs(u.query).get("digest", [""])[0])
    m = re.match(r"^/v2/(.+)/manifests/(.+)$", p)
    if m:
        return ("manifest", method, m.group(1), m.group(2))
    if p == "/v2/" or p == "/v2":
        return None  # every client pings; not tied to one job
    return None
checked, unkeyed, gaps, bad = 0, 0, [], []
for i, (t, fault, method, path) in enumerate(ev):
    if not fault:
        continue
    k = key(method, path)
    if k is None:
        unkeyed += 1
        continue
    nxt = next((e for e in ev[i + 1:] if key(e[2], e[3]) == k), None)
    if nxt is None:
        bad.append(f"no retry after {method} {path}")
        continue
    checked += 1
    gaps.append(nxt[0] - t)
    if nxt[0] - t < 0.95:
        bad.append(f"{method} {path}: retried after {nxt[0] - t:.3f} s")
print(f"checked={checked} unkeyed={unkeyed} min={min(gaps) if gaps else 0:.3f} "
      f"median={sorted(gaps)[len(gaps) // 2] if gaps else 0:.3f} max={max(gaps) if gaps else 0:.3f}")
for b in bad[:10]:
    print("BAD", b)
sys.exit(1 if bad or checked == 0 else 0)
PY
rc=$?
if [ "$rc" -eq 0 ]; then
    ok "every 429 tied to its retry was honoured: the retry came >= 1 s later ($(head -n1 "$T/retry.txt"))"
else
    fail "Retry-After honoured" "$(cat "$T/retry.txt")"
fi
[ "$N429" -gt 20 ] && ok "the proxy answered 429 to $N429 of $NREQ requests" || fail "429s injected" "$N429 of $NREQ"
diag "20 concurrent copies through 429 (rate 0.5, Retry-After 1): ${C_SECS} s wall, max peak RSS ${C_RSS} KiB, $N429 of $NREQ requests got 429; retry gaps: $(head -n1 "$T/retry.txt")"
finish
