#!/usr/bin/env bash
# Faults, concurrency and kill -9, beyond copy (13_faults.sh):
#  - build --push, scan of a registry image, db update (OSV feeds from a
#    local HTTP server), db pull and sign, each run many times through the
#    fault proxy: every run ends complete and correct, or with exit 4 and a
#    one-line error, and leaves nothing torn (a tag names complete content,
#    a failed update or pull leaves the old database byte for byte);
#  - several bosun processes at once on one OCI layout, one scan cache and
#    one database cache;
#  - kill -9 in the middle of a push, a pull into a layout, a build (during
#    RUN and during a layer write) and a db update (download and build),
#    then a rerun that must complete from what was left.
set -u
# Back-off between retries scaled to 5 % (a test-only knob, core/util.h):
# the faults are the same, the suite stops waiting out real back-off. A
# server's Retry-After is still waited for in full.
export BOSUN_TEST_BACKOFF_SCALE=0.05
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

W=$(tmpdir_new faultsmore)
export XDG_CACHE_HOME="$W/xdg"
# Build work directories go here, so what a killed build leaves is visible.
export TMPDIR="$W/tmp"
mkdir -p "$TMPDIR"
export SOURCE_DATE_EPOCH=1700000000
export BOSUN_KEY_PASSWORD=faults-pw
N=${FAULT_RUNS:-10}
sk() { timeout 120 skopeo --insecure-policy "$@"; }

# layout_ok DIR: every blob hashes to its name, nothing but blobs under a
# digest-like visible name, and index.json parses.
layout_ok() {
	local f
	for f in "$1"/blobs/sha256/*; do
		[ -e "$f" ] || continue
		[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || { diag "bad blob $f"; return 1; }
	done
	[ ! -e "$1/index.json" ] || "$PYTHON" -m json.tool "$1/index.json" >/dev/null
}
# index_tags DIR: the ref.name tags in index.json, sorted, one per line.
index_tags() {
	"$PYTHON" -c 'import json,sys
for m in json.load(open(sys.argv[1]))["manifests"]:
    print(m.get("annotations",{}).get("org.opencontainers.image.ref.name","-"))' "$1/index.json" | sort
}
# reg_digest REPO TAG: the manifest digest the registry holds for the tag ("" when none).
reg_digest() {
	curl -s -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$REG/v2/$1/manifests/$2" | tr -d '\r' |
		awk 'tolower($1)=="docker-content-digest:"{print $2} /^HTTP/ && $2!=200 {exit}'
}
# tag_complete REPO TAG: the tag is absent, or skopeo copies all it names.
tag_complete() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/$1/manifests/$2")
	[ "$code" = 404 ] && return 0
	rm -rf "$W/verify"
	sk copy --src-tls-verify=false "docker://$REG/$1:$2" "oci:$W/verify:x" >/dev/null 2>&1
}
# one_line FILE: a failure's output is a single line (stderr under -q).
one_line() { [ "$(grep -c . "$1")" -eq 1 ]; }
# db_records FILE: the record count db info reports.
db_records() { "$BOSUN" db info "$1" 2>/dev/null | grep -o '"records":[0-9]*' | cut -d: -f2; }
# stray_files DIR: files left under DIR whose names say temporary.
stray_files() { find "$1" -name '*.tmp*' -o -name '.tmp-*' -o -name '*.pull-*' -o -name '*-journal' 2>/dev/null; }
# wait_for CMD...: poll (at most 60 s) until CMD succeeds.
wait_for() {
	local i
	for ((i = 0; i < 600; i++)); do "$@" && return 0; sleep 0.1; done
	return 1
}
proxy_stalled() { grep -q '^FAULT.* stall ' "$PROXY_LOG" 2>/dev/null; }
# proxy_clean: replace the running proxy by one on the same port that
# injects nothing (names that embed the proxy's address stay valid).
proxy_clean() {
	local port=${PROXY##*:} up=$1
	kill_wait "$PROXY_PID"
	"$PYTHON" "$TESTLIB/faultproxy.py" --listen "$port" --upstream "$up" --mode 500 --rate 0 \
		--log "$PROXY_LOG" >/dev/null 2>&1 &
	PROXY_PID=$!
	at_exit "kill_wait $PROXY_PID"
	wait_port "$port" 10 || fail "clean proxy did not start on $port"
}

registry_start_open
make_busybox_oci "$W/base" latest >/dev/null || { fail "make the busybox image"; finish; }
sk copy --dest-tls-verify=false "oci:$W/base:latest" "docker://$REG/fm/base:1" >/dev/null 2>&1 ||
	{ fail "push the base image"; finish; }

# ---- the image: a 3 MiB file from the context, an npm package a RUN step writes
C="$W/ctx"
mkdir -p "$C"
{ openssl enc -aes-128-ctr -nosalt -pbkdf2 -iter 1 -pass pass:faults-more </dev/zero 2>/dev/null || true; } |
	head -c $((3 << 20)) >"$C/payload.bin"
cat >"$C/Dockerfile" <<'DF'
ARG BASE
FROM ${BASE}
COPY payload.bin /data/payload.bin
RUN mkdir -p /app/node_modules/leftpad-test && echo '{"name":"leftpad-test","version":"1.2.0"}' >/app/node_modules/leftpad-test/package.json
DF
check "reference build" "$BOSUN" -q build --build-arg BASE="$REG/fm/base:1" --output "oci:$W/ref:v1" "$C"
WANT=$(printf '%s\n' "$OUT" | tail -1)
sk copy --dest-tls-verify=false "oci:$W/ref:v1" "docker://$REG/fm/src:v1" >/dev/null 2>&1 || fail "push the reference image"

# =========================================================== faults: build --push
faultproxy_start --mode random --rate 0.2 --seed 1401
good=0 f4=0 bad=0 reruns=0
for i in $(seq 1 "$N"); do
	"$BOSUN" -q build --retries 1 --build-arg BASE="$REG/fm/base:1" -t "$PROXY/fm/build$i:v1" --push "$C" >"$W/out" 2>"$W/err"
	rc=$?
	case $rc in
	0) if [ "$(tail -1 "$W/out")" = "$WANT" ] && [ "$(reg_digest "fm/build$i" v1)" = "$WANT" ]; then good=$((good + 1)); else bad=1; diag "build $i: wrong digest"; fi ;;
	4) f4=$((f4 + 1)); one_line "$W/err" || { bad=1; diag "build $i: not one line: $(cat "$W/err")"; } ;;
	*) bad=1; diag "build $i: exit $rc: $(cat "$W/err")" ;;
	esac
	tag_complete "fm/build$i" v1 || { bad=1; diag "build $i: tag names missing content"; }
	if [ "$rc" -ne 0 ]; then
		reruns=$((reruns + 1))
		"$BOSUN" -q build --build-arg BASE="$REG/fm/base:1" -t "$REG/fm/build$i:v1" --push "$C" >"$W/out" 2>&1 &&
			[ "$(reg_digest "fm/build$i" v1)" = "$WANT" ] && tag_complete "fm/build$i" v1 ||
			{ bad=1; diag "build $i: rerun without faults: $(cat "$W/out")"; }
	fi
done
[ "$bad" -eq 0 ] && ok "build --push x$N through faults: $good complete, $f4 exit 4 (one line), $reruns reruns complete; $(proxy_faults) faults" ||
	fail "build --push through faults"

# =========================================================== faults: scan of a registry image
mkdir -p "$W/rec" "$W/www/Go" "$W/www/npm"
cat >"$W/rec/GHSA-test-0001.json" <<'J'
{"id":"GHSA-test-0001","modified":"2024-01-01T00:00:00Z","summary":"prototype pollution in leftpad-test",
 "aliases":["CVE-2099-0001"],"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected":[{"package":{"ecosystem":"npm","name":"leftpad-test"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.0"}]}]}]}
J
(cd "$W/rec" && zip -q "$W/www/npm/all.zip" GHSA-test-0001.json)
cp "$SHARED/data/vulndata/osv-go-all.zip" "$W/www/Go/all.zip"
check "small npm database" "$BOSUN" -q db build --osv "$W/www/npm/all.zip" -o "$W/npm.db"
findings() { "$PYTHON" -c 'import json,sys
d=json.load(open(sys.argv[1]))
def walk(x):
    if isinstance(x,dict):
        if isinstance(x.get("id"),str) and x["id"].startswith(("GHSA","CVE")): yield x["id"]
        for v in x.values(): yield from walk(v)
    elif isinstance(x,list):
        for v in x: yield from walk(v)
print(" ".join(sorted(set(walk(d)))))' "$1" 2>/dev/null; }
"$BOSUN" -q scan --db "$W/npm.db" --no-cache --format json -o "$W/scanref.json" "$REG/fm/src:v1" >/dev/null 2>&1
SCAN_WANT=$(findings "$W/scanref.json")
[ -n "$SCAN_WANT" ] && ok "reference scan finds: $SCAN_WANT" || fail "reference scan finds the npm advisory"

faultproxy_start --mode random --rate 0.25 --seed 1402 --only-path '/blobs/|/manifests/'
good=0 f4=0 bad=0
for i in $(seq 1 "$N"); do
	rm -f "$W/scan.json"
	"$BOSUN" -q scan --retries 1 --db "$W/npm.db" --cache-dir "$W/scancache" --format json -o "$W/scan.json" \
		"$PROXY/fm/src:v1" >/dev/null 2>"$W/err"
	rc=$?
	case $rc in
	0) [ "$(findings "$W/scan.json")" = "$SCAN_WANT" ] && good=$((good + 1)) || { bad=1; diag "scan $i: findings $(findings "$W/scan.json")"; } ;;
	4) f4=$((f4 + 1)); one_line "$W/err" || { bad=1; diag "scan $i: not one line: $(cat "$W/err")"; }
	   [ ! -e "$W/scan.json" ] || { bad=1; diag "scan $i: failed but wrote a report"; } ;;
	*) bad=1; diag "scan $i: exit $rc: $(cat "$W/err")" ;;
	esac
done
[ "$bad" -eq 0 ] && ok "scan x$N through faults: $good right findings, $f4 exit 4 (one line, no report); $(proxy_faults) faults" ||
	fail "scan through faults"
[ -z "$(stray_files "$W/scancache")" ] && ok "no temporary files left in the scan cache" || fail "scan cache strays" "$(stray_files "$W/scancache")"
"$BOSUN" -q scan --db "$W/npm.db" --cache-dir "$W/scancache" --format json -o "$W/scan.json" "$REG/fm/src:v1" >/dev/null 2>&1
[ "$(findings "$W/scan.json")" = "$SCAN_WANT" ] && ok "scan from the cache the faulted runs left: same findings" || fail "scan from the faulted cache"

# =========================================================== faults: db update
HPORT=$(free_port)
"$PYTHON" -m http.server --bind 127.0.0.1 --directory "$W/www" "$HPORT" >"$W/http.log" 2>&1 &
HTTP_PID=$!
at_exit "kill_wait $HTTP_PID"
wait_port "$HPORT" || { fail "http server did not start"; finish; }
DBDIR="$XDG_CACHE_HOME/bosun/db"
check "db update without faults" "$BOSUN" -q db update --osv-url "http://127.0.0.1:$HPORT" --ecosystem Go,npm
[ "$(db_records "$DBDIR/vuln.db")" = 4275 ] && ok "db has 4275 records" || fail "db records: $(db_records "$DBDIR/vuln.db")"
cp "$DBDIR/vuln.db" "$W/good.db"

faultproxy_start --upstream "127.0.0.1:$HPORT" --mode random --rate 0.3 --seed 1403
# Last-Modified must move forward from the first download (now): future times
stamp=$(($(date +%s) + 1000)) good=0 f4=0 bad=0
for i in $(seq 1 "$N"); do
	# new feeds on the server (Last-Modified moves): every run downloads
	stamp=$((stamp + 100))
	touch -d "@$stamp" "$W/www/Go/all.zip" "$W/www/npm/all.zip"
	cp "$DBDIR/vuln.db" "$W/before.db"
	"$BOSUN" db update --retries 1 --osv-url "http://$PROXY" --ecosystem Go,npm >"$W/out" 2>"$W/err"
	rc=$?
	case $rc in
	# the feeds changed: a success is a rebuild
	0) grep -q 'vuln.db: 4275 records' "$W/out" && [ "$(db_records "$DBDIR/vuln.db")" = 4275 ] && good=$((good + 1)) ||
	   { bad=1; diag "update $i: $(cat "$W/out") records $(db_records "$DBDIR/vuln.db")"; } ;;
	4) f4=$((f4 + 1)); one_line "$W/err" || { bad=1; diag "update $i: not one line: $(cat "$W/err")"; }
	   cmp -s "$W/before.db" "$DBDIR/vuln.db" || { bad=1; diag "update $i: failed but the database changed"; } ;;
	*) bad=1; diag "update $i: exit $rc: $(cat "$W/err")" ;;
	esac
	s=$(stray_files "$DBDIR")
	[ -z "$s" ] || { bad=1; diag "update $i: left $s"; }
done
[ "$bad" -eq 0 ] && ok "db update x$N through faults: $good rebuilt (4275 records), $f4 exit 4 with the old db intact; $(proxy_faults) faults" ||
	fail "db update through faults"
check "db update rerun without faults" "$BOSUN" -q db update --osv-url "http://127.0.0.1:$HPORT" --ecosystem Go,npm
cmp -s "$W/www/Go/all.zip" "$DBDIR/osv/Go/all.zip" && cmp -s "$W/www/npm/all.zip" "$DBDIR/osv/npm/all.zip" &&
	[ "$(db_records "$DBDIR/vuln.db")" = 4275 ] && ok "after the rerun: feeds byte for byte, 4275 records" || fail "state after db update rerun"

# =========================================================== faults: db pull
check "db push" "$BOSUN" -q db push --db "$W/good.db" "$REG/fm/db:1"
faultproxy_start --mode random --rate 0.3 --seed 1404
mkdir -p "$W/pull"
good=0 f4=0 bad=0
for i in $(seq 1 "$N"); do
	cp "$W/npm.db" "$W/pull/vuln.db"
	"$BOSUN" -q db pull --retries 1 -o "$W/pull/vuln.db" "$PROXY/fm/db:1" >/dev/null 2>"$W/err"
	rc=$?
	case $rc in
	0) cmp -s "$W/pull/vuln.db" "$W/good.db" && good=$((good + 1)) || { bad=1; diag "pull $i: differs"; } ;;
	4) f4=$((f4 + 1)); one_line "$W/err" || { bad=1; diag "pull $i: not one line: $(cat "$W/err")"; }
	   cmp -s "$W/pull/vuln.db" "$W/npm.db" || { bad=1; diag "pull $i: failed but replaced the file"; } ;;
	*) bad=1; diag "pull $i: exit $rc: $(cat "$W/err")" ;;
	esac
	s=$(stray_files "$W/pull")
	[ -z "$s" ] || { bad=1; diag "pull $i: left $s"; }
done
[ "$bad" -eq 0 ] && ok "db pull x$N through faults: $good byte-identical, $f4 exit 4 with the old file intact; $(proxy_faults) faults" ||
	fail "db pull through faults"

# =========================================================== faults: sign
( cd "$W" && "$BOSUN" -q keygen --output-key-prefix k >/dev/null 2>&1 ) || fail "keygen"
for i in $(seq 1 "$N"); do "$BOSUN" -q copy "$REG/fm/src:v1" "$REG/fm/sign$i:v1" >/dev/null 2>&1 || fail "copy fm/sign$i"; done
faultproxy_start --mode random --rate 0.2 --seed 1405
SIGNPROXY=$PROXY
good=0 f4=0 bad=0 failed=()
for i in $(seq 1 "$N"); do
	"$BOSUN" -q sign --retries 1 --key "$W/k.key" "$PROXY/fm/sign$i:v1" >"$W/out" 2>"$W/err"
	rc=$?
	case $rc in
	0) [ "$(tail -1 "$W/out")" = "$WANT" ] && good=$((good + 1)) || { bad=1; diag "sign $i: printed $(cat "$W/out")"; } ;;
	4) f4=$((f4 + 1)); failed+=("$i"); one_line "$W/err" || { bad=1; diag "sign $i: not one line: $(cat "$W/err")"; } ;;
	*) bad=1; diag "sign $i: exit $rc: $(cat "$W/err")" ;;
	esac
	tag_complete "fm/sign$i" "${WANT/:/-}.sig" || { bad=1; diag "sign $i: signature tag names missing content"; }
done
proxy_clean "$REG"
for i in $(seq 1 "$N"); do
	"$BOSUN" -q verify --key "$W/k.pub" "$SIGNPROXY/fm/sign$i:v1" >/dev/null 2>"$W/err"
	rc=$?
	if [[ " ${failed[*]} " == *" $i "* ]]; then
		# a failed sign may or may not have landed (the answer to the last PUT may be what was lost)
		case $rc in 0 | 1) ;; *) bad=1; diag "verify after failed sign $i: exit $rc: $(cat "$W/err")" ;; esac
		"$BOSUN" -q sign --key "$W/k.key" "$SIGNPROXY/fm/sign$i:v1" >/dev/null 2>"$W/err" || { bad=1; diag "re-sign $i: $(cat "$W/err")"; }
		"$BOSUN" -q verify --key "$W/k.pub" "$SIGNPROXY/fm/sign$i:v1" >/dev/null 2>"$W/err" || { bad=1; diag "verify after re-sign $i: $(cat "$W/err")"; }
	elif [ "$rc" -ne 0 ]; then
		bad=1; diag "verify $i: exit $rc: $(cat "$W/err")"
	fi
done
[ "$bad" -eq 0 ] && ok "sign x$N through faults: $good signed and verified, $f4 exit 4; every failed one re-signed and verified" ||
	fail "sign through faults"

# =========================================================== concurrency
conc_round() { # ROUND: 4 tags and 1 contested tag written at once into one layout
	local d="$W/conc$1" pids=() i rc=0
	for i in 1 2 3 4; do "$BOSUN" -q copy "$REG/fm/src:v1" "oci:$d:t$i" >/dev/null 2>"$W/c$i.err" & pids+=($!); done
	"$BOSUN" -q copy "$REG/fm/src:v1" "oci:$d:same" >/dev/null 2>"$W/c5.err" & pids+=($!)
	"$BOSUN" -q copy "$REG/fm/base:1" "oci:$d:same" >/dev/null 2>"$W/c6.err" & pids+=($!)
	"$BOSUN" -q copy "oci:$W/ref:v1" "oci:$d:same" >/dev/null 2>"$W/c7.err" & pids+=($!)
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	[ "$rc" -eq 0 ] || { diag "round $1: $(cat "$W"/c*.err)"; return 1; }
	layout_ok "$d" || return 1
	[ "$(index_tags "$d" | tr '\n' ' ')" = "same t1 t2 t3 t4 " ] || { diag "round $1 tags: $(index_tags "$d" | tr '\n' ' ')"; return 1; }
	for i in t1 t2 t3 t4 same; do
		rm -rf "$W/cc"
		sk copy "oci:$d:$i" "oci:$W/cc:x" >/dev/null 2>&1 || { diag "round $1: skopeo cannot read $i"; return 1; }
	done
	[ -z "$(stray_files "$d")" ] || { diag "round $1 strays: $(stray_files "$d")"; return 1; }
}
bad=0
for r in 1 2 3; do conc_round "$r" || bad=1; done
[ "$bad" -eq 0 ] && ok "7 copies at once into one layout (4 tags + 3 on one tag), 3 rounds: all succeed, index has every tag once, blobs verify" ||
	fail "concurrent copies into one layout"

pids=() bad=0
for i in 1 2; do
	"$BOSUN" -q build --build-arg BASE="$REG/fm/base:1" --output "oci:$W/cbuild:b$i" "$C" >"$W/cb$i.out" 2>&1 & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || bad=1; done
[ "$bad" -eq 0 ] && [ "$(tail -1 "$W/cb1.out")" = "$WANT" ] && [ "$(tail -1 "$W/cb2.out")" = "$WANT" ] && layout_ok "$W/cbuild" &&
	[ "$(index_tags "$W/cbuild" | tr '\n' ' ')" = "b1 b2 " ] &&
	ok "2 builds at once into one output layout: both the reference digest, both tags, blobs verify" ||
	fail "concurrent builds into one layout" "$(cat "$W"/cb*.out)"

pids=() bad=0
for i in 1 2 3; do
	"$BOSUN" -q scan --db "$W/npm.db" --cache-dir "$W/concscan" --format json -o "$W/cs$i.json" "$REG/fm/src:v1" >/dev/null 2>"$W/cs$i.err" & pids+=($!)
	"$BOSUN" -q scan --db "$W/npm.db" --cache-dir "$W/concscan" --format json -o "$W/cso$i.json" "oci:$W/ref:v1" >/dev/null 2>"$W/cso$i.err" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || bad=1; done
for i in 1 2 3; do
	[ "$(findings "$W/cs$i.json")" = "$SCAN_WANT" ] && [ "$(findings "$W/cso$i.json")" = "$SCAN_WANT" ] || bad=1
done
"$BOSUN" -q scan --db "$W/npm.db" --cache-dir "$W/concscan" --format json -o "$W/cs.json" "$REG/fm/src:v1" >/dev/null 2>&1
[ "$(findings "$W/cs.json")" = "$SCAN_WANT" ] || bad=1
[ -z "$(stray_files "$W/concscan")" ] || bad=1
[ "$bad" -eq 0 ] && ok "6 scans at once with one --cache-dir: all right findings, the cache then serves a 7th, no strays" ||
	fail "concurrent scans" "$(cat "$W"/cs*.err)"

bad=0
for round in fresh changed; do
	[ "$round" = fresh ] && rm -rf "$W/concdb"
	[ "$round" = changed ] && touch -d "@$((stamp + 500))" "$W/www/Go/all.zip" "$W/www/npm/all.zip"
	pids=()
	for i in 1 2 3; do
		"$BOSUN" -q db update --cache-dir "$W/concdb" --osv-url "http://127.0.0.1:$HPORT" --ecosystem Go,npm >/dev/null 2>"$W/cd$i.err" & pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || { bad=1; diag "$round: $(cat "$W"/cd*.err)"; }; done
	[ "$round" = changed ] && { grep -q 'GET /Go/all.zip HTTP/1.1" 200' "$W/http.log" || { bad=1; diag "changed round: no download"; }; }
	[ "$(db_records "$W/concdb/db/vuln.db")" = 4275 ] || { bad=1; diag "$round: records $(db_records "$W/concdb/db/vuln.db")"; }
	cmp -s "$W/www/Go/all.zip" "$W/concdb/db/osv/Go/all.zip" || { bad=1; diag "$round: Go feed differs"; }
	s=$(stray_files "$W/concdb")
	[ -z "$s" ] || { bad=1; diag "$round: strays $s"; }
done
[ "$bad" -eq 0 ] && ok "3 db updates at once into one cache (fresh, then changed feeds): all succeed, 4275 records, no strays" ||
	fail "concurrent db updates"

# =========================================================== kill -9
make_multilayer_oci "$W/big" 2 8 v1 >/dev/null
BIG=$IMG_MANIFEST_DIGEST
# killed during a push, 3 MB into a blob upload
faultproxy_start --mode stall --only-path '/blobs/uploads/' --only-method PATCH,PUT --stall-after 3000000 --max-faults 1
"$BOSUN" -q copy "oci:$W/big:v1" "$PROXY/fm/big:v1" >"$W/kpush.out" 2>&1 &
pid=$!
if wait_for proxy_stalled; then
	kill -9 "$pid"; wait "$pid" 2>/dev/null
	ok "push killed in the middle of a blob: $(grep "^FAULT" "$PROXY_LOG" | sed "s/^FAULT #1 //; s/?[^ ]*//")"
	[ -z "$(reg_digest fm/big v1)" ] && ok "no tag after the killed push" || fail "tag after the killed push"
	expect_exit 0 "push rerun completes" "$BOSUN" -q copy "oci:$W/big:v1" "$REG/fm/big:v1"
	[ "$(reg_digest fm/big v1)" = "$BIG" ] && tag_complete fm/big v1 && ok "rerun pushed the right, complete image" || fail "image after push rerun"
	layout_ok "$W/big" && [ -z "$(stray_files "$W/big")" ] && ok "source layout untouched" || fail "source layout after killed push"
else
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	fail "the push never reached the stall" "$(cat "$PROXY_LOG" "$W/kpush.out")"
fi

# killed during a pull into a layout that already holds another image
cp -a "$W/ref" "$W/bigpull"
faultproxy_start --mode stall --only-path '/blobs/sha256:' --only-method GET --stall-after 3000000 --max-faults 1
"$BOSUN" -q copy "$PROXY/fm/big:v1" "oci:$W/bigpull:v2" >/dev/null 2>&1 &
pid=$!
if wait_for proxy_stalled; then
	kill -9 "$pid"; wait "$pid" 2>/dev/null
	left=$(stray_files "$W/bigpull" | wc -l)
	layout_ok "$W/bigpull" && [ "$(index_tags "$W/bigpull" | tr '\n' ' ')" = "v1 " ] &&
		ok "pull killed mid-blob: layout verifies, only the old tag ($left temporary file(s) left, hidden)" || fail "layout after killed pull"
	expect_exit 0 "pull rerun completes" "$BOSUN" -q copy "$REG/fm/big:v1" "oci:$W/bigpull:v2"
	[ "$(printf '%s\n' "$OUT" | tail -1)" = "$BIG" ] && layout_ok "$W/bigpull" && [ "$(index_tags "$W/bigpull" | tr '\n' ' ')" = "v1 v2 " ] &&
		ok "rerun: both tags, every blob verifies" || fail "layout after pull rerun"
	rm -rf "$W/cc"
	sk copy "oci:$W/bigpull:v2" "oci:$W/cc:x" >/dev/null 2>&1 && ok "skopeo reads the pulled image" || fail "skopeo reads the pulled image"
else
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	fail "the pull never reached the stall" "$(cat "$PROXY_LOG")"
fi

# killed during RUN; the rerun uses the same cache dir and output layout
# children_of PID: every descendant of PID.
children_of() { local c; for c in $(pgrep -P "$1"); do echo "$c"; children_of "$c"; done; }
run_sleeper() { local p; for p in $(children_of "$1"); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && { echo "$p"; return 0; }; done; return 1; }
K="$W/kctx"
mkdir -p "$K"
cp "$C/payload.bin" "$K/"
cat >"$K/Dockerfile" <<'DF'
ARG BASE
FROM ${BASE}
ARG PAUSE=0
RUN sleep $PAUSE; mkdir -p /out && echo built >/out/f
COPY payload.bin /data/payload.bin
DF
"$BOSUN" -q build --cache-dir "$W/bcache" --build-arg BASE="$REG/fm/base:1" --build-arg PAUSE=4321 --output "oci:$W/bout:v1" "$K" >/dev/null 2>&1 &
pid=$!
if wait_for run_sleeper "$pid" >/dev/null; then
	sp=$(run_sleeper "$pid")
	kill -9 "$pid"; wait "$pid" 2>/dev/null
	sleep 1
	if kill -0 "$sp" 2>/dev/null; then fail "the RUN process outlived the killed build"; kill -9 "$sp"; else ok "build killed during RUN: the RUN process went with it"; fi
	n_left=$(find "$TMPDIR" -maxdepth 1 -name 'bosun-build-*' | wc -l)
	check "reference build of the kill test" "$BOSUN" -q build --cache-dir "$W/bcache-ref" --build-arg BASE="$REG/fm/base:1" --output "oci:$W/bref:v1" "$K"
	KWANT=$(printf '%s\n' "$OUT" | tail -1)
	check "build rerun with what the killed one left" "$BOSUN" -q build --cache-dir "$W/bcache" --build-arg BASE="$REG/fm/base:1" --output "oci:$W/bout:v1" "$K"
	[ "$(printf '%s\n' "$OUT" | tail -1)" = "$KWANT" ] && layout_ok "$W/bout" && layout_ok "$W/bcache/layout" &&
		ok "rerun gives the reference digest; output and cache layouts verify" || fail "build after a kill during RUN"
else
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	fail "the build never reached RUN"
fi
n=$(find "$TMPDIR" -maxdepth 1 -name 'bosun-build-*' | wc -l)
[ "${n_left:-0}" -ge 1 ] && [ "$n" -eq 0 ] && ok "the killed build's work directory ($n_left) is removed by the next build" ||
	fail "work directories in TMPDIR: ${n_left:-?} after the kill, $n after the reruns"

# killed while writing a layer (a 48 MiB COPY being compressed into the cache layout)
{ openssl enc -aes-128-ctr -nosalt -pbkdf2 -iter 1 -pass pass:faults-big </dev/zero 2>/dev/null || true; } | head -c $((48 << 20)) >"$K/payload.bin"
"$BOSUN" -q build --cache-dir "$W/bcache" --build-arg BASE="$REG/fm/base:1" --output "oci:$W/bout:v2" "$K" >/dev/null 2>&1 &
pid=$!
layer_tmp() { [ -n "$(find "$W/bcache/layout/blobs/sha256" -name '.tmp-*' -size +1M 2>/dev/null)" ]; }
if wait_for layer_tmp; then
	kill -9 "$pid"; wait "$pid" 2>/dev/null
	ok "build killed while writing a layer ($(find "$W/bcache/layout/blobs/sha256" -name '.tmp-*' -size +1M | wc -l) partial layer file(s))"
	layout_ok "$W/bcache/layout" && ok "cache layout still verifies" || fail "cache layout after the kill"
	check "reference build (48 MiB)" "$BOSUN" -q build --cache-dir "$W/bcache-ref" --build-arg BASE="$REG/fm/base:1" --output "oci:$W/bref:v2" "$K"
	KWANT=$(printf '%s\n' "$OUT" | tail -1)
	check "build rerun after the kill during a layer write" "$BOSUN" -q build --cache-dir "$W/bcache" --build-arg BASE="$REG/fm/base:1" --output "oci:$W/bout:v2" "$K"
	[ "$(printf '%s\n' "$OUT" | tail -1)" = "$KWANT" ] && layout_ok "$W/bout" && layout_ok "$W/bcache/layout" &&
		[ "$(index_tags "$W/bout" | tr '\n' ' ')" = "v1 v2 " ] &&
		ok "rerun gives the reference digest; layouts verify, both tags" || fail "build after a kill during a layer write"
else
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	fail "never saw the layer being written"
fi

# db update killed during the download of the Go feed
cp "$DBDIR/vuln.db" "$W/before.db"
touch -d "@$((stamp + 1000))" "$W/www/Go/all.zip"
faultproxy_start --upstream "127.0.0.1:$HPORT" --mode stall --only-path '/Go/' --stall-after 1000000 --max-faults 1
"$BOSUN" -q db update --osv-url "http://$PROXY" --ecosystem Go,npm >/dev/null 2>&1 &
pid=$!
if wait_for proxy_stalled; then
	kill -9 "$pid"; wait "$pid" 2>/dev/null
	diag "left by the killed download: $(stray_files "$DBDIR" | tr "\n" " ")"
	cmp -s "$W/before.db" "$DBDIR/vuln.db" && ok "db update killed mid-download: database unchanged ($(stray_files "$DBDIR" | wc -l) temporary file(s) left)" ||
		fail "database changed by a killed download"
	check "db update rerun" "$BOSUN" -q db update --osv-url "http://127.0.0.1:$HPORT" --ecosystem Go,npm
	cmp -s "$W/www/Go/all.zip" "$DBDIR/osv/Go/all.zip" && [ "$(db_records "$DBDIR/vuln.db")" = 4275 ] && [ -z "$(stray_files "$DBDIR")" ] &&
		ok "rerun: feed byte for byte, 4275 records, temporary files gone" || fail "after db update rerun" "$(stray_files "$DBDIR")"
else
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	fail "the download never reached the stall" "$(cat "$PROXY_LOG")"
fi

# db update killed while building the database
cp "$DBDIR/vuln.db" "$W/before.db"
"$BOSUN" -q db update --force --osv-url "http://127.0.0.1:$HPORT" --ecosystem Go,npm >/dev/null 2>&1 &
pid=$!
# (journal off, a big page cache: the file grows only at the end; its
# appearance marks the start of the build)
db_tmp() { [ -n "$(find "$DBDIR" -maxdepth 1 -name 'vuln.db.tmp*' 2>/dev/null)" ]; }
if wait_for db_tmp; then
	kill -9 "$pid"; wait "$pid" 2>/dev/null
	cmp -s "$W/before.db" "$DBDIR/vuln.db" && ok "db update killed mid-build: database unchanged ($(stray_files "$DBDIR" | wc -l) temporary file(s) left)" ||
		fail "database changed by a killed build"
	[ "$(db_records "$DBDIR/vuln.db")" = 4275 ] && ok "the database still opens with 4275 records" || fail "database after a killed build"
	check "db update --force rerun" "$BOSUN" -q db update --force --osv-url "http://127.0.0.1:$HPORT" --ecosystem Go,npm
	[ "$(db_records "$DBDIR/vuln.db")" = 4275 ] && [ -z "$(stray_files "$DBDIR")" ] &&
		ok "rerun: 4275 records, temporary files gone" || fail "after db build rerun" "$(stray_files "$DBDIR")"
else
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	fail "never saw the database being built"
fi
finish
