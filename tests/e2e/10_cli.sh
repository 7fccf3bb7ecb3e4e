#!/usr/bin/env bash
# The command line: help everywhere, usage errors exit 2, bad input exits 3
# with one clear line, an unreachable registry exits 4.
set -u
source "$(dirname "$0")/../lib/common.sh"
source "$TESTLIB/images.sh"

W=$(tmpdir_new cli)

expect_exit 0 "bosun --help" "$BOSUN" --help
expect_out "help lists commands" 'copy .*inspect|inspect'
expect_out "help lists exit codes" 'registry or network error'
for c in copy inspect version help; do
	expect_exit 0 "bosun $c --help" "$BOSUN" "$c" --help
	expect_out "$c --help shows usage" "usage: bosun $c"
done
expect_exit 0 "bosun help copy" "$BOSUN" help copy
expect_out "help copy is copy's help" 'usage: bosun copy'
expect_exit 2 "no command" "$BOSUN"
expect_exit 2 "unknown command" "$BOSUN" frobnicate
expect_out "unknown command named" 'unknown command "frobnicate"'
expect_exit 2 "unknown option" "$BOSUN" copy --frob a b
expect_out "unknown option is named" '^bosun copy: bad option "--frob"'
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 1 ] && ok "unknown option is one line" || fail "unknown option is one line" "$OUT"
# Every build, scan/policy, signing, report and registry option the help of
# scan and build promises is accepted by ship with a valid value, and every
# option ship's own help lists too (issue 13: 'ship --skip-db-update' was
# unknown). Each is given before --help: an unknown one exits 2 first.
: >"$W/empty"
opt_value() { # OPTION: a valid value for it, or nothing when it takes none
    case "$1" in
    --push|--no-push|--push-on-fail|--attest|--ignore-unfixed|--skip-db-update|--no-ci-publish|--no-cache|--help|-v|-q|--verbose|--quiet) ;;
    --network) echo none ;; --compression) echo zstd ;;
    --label|--build-arg) echo K=V ;; --secret) echo id=a,src=b ;;
    --creds|--src-creds|--dest-creds) echo u:p ;; --cacert) echo "$W/empty" ;;
    --parallel|--retries|--base-max-age) echo 2 ;; --db-max-age) echo 1d ;;
    --severity) echo HIGH,CRITICAL ;; --fail-on) echo none ;; --unknown-as) echo LOW ;; --cvss-prefer) echo v4 ;;
    --platform) echo linux/amd64 ;; --tag|-t) echo localhost:1/a:1 ;;
    *) echo x ;;
    esac
}
help_opts() { # COMMAND SECTION-REGEX: the long options listed in that section of the help
    "$BOSUN" "$1" --help | awk -v re="$2" '/^[A-Z][A-Za-z ,]*( \(.*)?:$/ { on = ($0 ~ re) } on' |
        grep -oE '^  (-[a-z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'
}
missing=""
for o in $(help_opts scan '^(Scan and policy|Registry)') $(help_opts build '^Build options') \
         $(help_opts ship '.'); do
    v="$(opt_value "$o")"
    # shellcheck disable=SC2086
    "$BOSUN" ship "$o" ${v:+"$v"} --help >/dev/null 2>"$W/opt.err" || missing="$missing $o($(head -c 120 "$W/opt.err"))"
done
[ -z "$missing" ] && ok "ship accepts every scan, policy, build, signing, report and registry option" ||
    fail "ship accepts every promised option" "$missing"
[ "$(help_opts scan '^(Scan and policy|Registry)' | wc -l)" -ge 15 ] && ok "the option sections were found in the help" ||
    fail "option sections in the help" "$(help_opts scan '^(Scan and policy|Registry)')"
for o in --skip-db-update --db-max-age --vex --unknown-as --cacert --compression; do
    help_opts ship '.' | grep -qx -- "$o" && ok "ship --help lists $o" || fail "ship --help lists $o"
done
# every command: a missing value and an unknown option give one line, exit 2
for c in copy inspect build scan "db build" "db update" "db info" "db push" "db pull" keygen sign attest verify ship patch "base check" version; do
    # shellcheck disable=SC2086
    expect_exit 2 "$c: unknown option exits 2" "$BOSUN" $c --no-such-option
    [ "$(printf '%s\n' "$OUT" | wc -l)" -eq 1 ] && [ -n "$OUT" ] && ok "$c: unknown option, one line" || fail "$c: unknown option, one line" "$OUT"
done
# db: each subcommand's help, a missing value and the option meant for the other one
for c in "db" "db build" "db update" "db info" "db push" "db pull"; do
    # shellcheck disable=SC2086
    expect_exit 0 "$c --help" "$BOSUN" $c --help
    expect_out "$c --help shows db's usage" '^usage: bosun db build '
    expect_out "$c --help names every subcommand" '^       bosun db pull '
    expect_out "$c --help lists the update options" '^  --ecosystem LIST'
done
for a in "build --osv" "build -o" "update --ecosystem" "update --osv-url" "push --db" "pull -o"; do
    # shellcheck disable=SC2086
    expect_exit 2 "db $a without a value exits 2" "$BOSUN" db $a
    expect_out "db $a: the option is named" "^bosun db: bad option \"${a#* }\": unknown, or its value is missing \(see 'bosun db ${a%% *} --help'\)$"
done
expect_exit 2 "db info --no-such-option is a usage error, not a file" "$BOSUN" db info --no-such-option
expect_no_out "db info does not open the option as a file" 'No such file'
expect_exit 2 "db pull --db: push's option" "$BOSUN" db pull --db x localhost:1/a:1
expect_out "says which subcommand takes it" '--db is for push \(pull takes -o FILE\)'
expect_exit 2 "db frob: unknown subcommand" "$BOSUN" db frob
expect_out "unknown subcommand named" 'unknown subcommand "frob"'
# options may follow the arguments, as with most tools
expect_exit 2 "an option after the arguments is read" "$BOSUN" copy a b --parallel many
expect_out "and checked" '^bosun copy: --parallel takes a number'
expect_exit 2 "missing value exits 2" "$BOSUN" scan --db
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 1 ] && ok "missing value, one line" || fail "missing value, one line" "$OUT"
expect_out "missing value is explained" 'bad option "--db": unknown, or its value is missing'
expect_exit 2 "copy needs two arguments" "$BOSUN" copy oci:x
expect_exit 2 "bad --parallel" "$BOSUN" copy --parallel many a b
expect_exit 2 "bad --creds" "$BOSUN" copy --creds nocolon a b
expect_exit 2 "bad --platform" "$BOSUN" inspect --platform linux oci:x
expect_exit 2 "bad --format" "$BOSUN" inspect --format yaml oci:x
expect_exit 2 "unknown transport" "$BOSUN" inspect ftp://x/y
expect_exit 0 "version" "$BOSUN" version
expect_out "version names libraries" 'openssl'

# Malformed references: exit 3, one line.
for ref in 'Upper/Case:1' 'a//b' 'x:' 'repo@sha256:1234' 'host:5000/x:bad^tag' ':tag'; do
	expect_exit 3 "malformed reference $ref" "$BOSUN" inspect "$ref"
	if [ "$(printf '%s\n' "$OUT" | wc -l)" -eq 1 ]; then ok "one line for $ref"; else fail "one line for $ref" "$OUT"; fi
done

# A layout without index.json.
mkdir -p "$W/empty"
expect_exit 3 "layout without index.json" "$BOSUN" inspect "oci:$W/empty"
expect_out "names the problem" 'not an OCI layout'

# A good layout, then damaged copies of it.
make_busybox_oci "$W/good" 1.0 >/dev/null
expect_exit 0 "inspect a good layout" "$BOSUN" inspect "oci:$W/good:1.0"
expect_out "inspect shows the digest" "$IMG_MANIFEST_DIGEST"
expect_exit 3 "unknown tag" "$BOSUN" inspect "oci:$W/good:nope"

mhex=${IMG_MANIFEST_DIGEST#sha256:}
lhex=${IMG_LAYER_DIGESTS%% *}; lhex=${lhex#sha256:}

cp -a "$W/good" "$W/notjson"
chmod u+w "$W/notjson/blobs/sha256/$mhex"
printf 'this is not json' >"$W/notjson/blobs/sha256/$mhex"
expect_exit 3 "manifest that does not match its digest" "$BOSUN" inspect "oci:$W/notjson:1.0"
expect_out "says digest mismatch" 'digest'

# Not JSON, but stored under its real digest (so only parsing can fail).
cp -a "$W/good" "$W/notjson2"
printf 'this is not json' >"$W/x"
xd=$(sha256sum "$W/x" | cut -d' ' -f1)
cp "$W/x" "$W/notjson2/blobs/sha256/$xd"
"$PYTHON" - "$W/notjson2/index.json" "$xd" <<'PY'
import json, sys
p, d = sys.argv[1], sys.argv[2]
i = json.load(open(p))
i["manifests"][0]["digest"] = "sha256:" + d
i["manifests"][0]["size"] = 16
json.dump(i, open(p, "w"))
PY
expect_exit 3 "manifest that is not JSON" "$BOSUN" inspect "oci:$W/notjson2:1.0"

# A 5 MiB manifest is over the 4 MiB cap.
cp -a "$W/good" "$W/big"
head -c $((5 << 20)) /dev/zero | tr '\0' ' ' >"$W/bigm"
bd=$(sha256sum "$W/bigm" | cut -d' ' -f1)
cp "$W/bigm" "$W/big/blobs/sha256/$bd"
"$PYTHON" - "$W/big/index.json" "$bd" $((5 << 20)) <<'PY'
import json, sys
p, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
i = json.load(open(p))
i["manifests"][0]["digest"] = "sha256:" + d
i["manifests"][0]["size"] = n
json.dump(i, open(p, "w"))
PY
expect_exit 3 "manifest over the size cap" "$BOSUN" inspect "oci:$W/big:1.0"

# A corrupted layer is caught when copying.
cp -a "$W/good" "$W/badlayer"
chmod u+w "$W/badlayer/blobs/sha256/$lhex"
printf 'x' >>"$W/badlayer/blobs/sha256/$lhex"
expect_exit 3 "copy refuses a corrupted layer" "$BOSUN" -q copy "oci:$W/badlayer:1.0" "oci:$W/out:1.0"
if [ -f "$W/out/blobs/sha256/$lhex" ]; then fail "no corrupt blob in the destination"; else ok "no corrupt blob in the destination"; fi

# Docker archives: a good one, a truncated one, one that is not a tar.
expect_exit 0 "write a docker archive" "$BOSUN" -q copy "oci:$W/good:1.0" "docker-archive:$W/img.tar:test/busybox:1.0"
size=$(stat -c %s "$W/img.tar")
head -c $((size / 2)) "$W/img.tar" >"$W/trunc.tar"
expect_exit 3 "truncated docker archive" "$BOSUN" inspect "docker-archive:$W/trunc.tar"
if [ "$(printf '%s\n' "$OUT" | wc -l)" -eq 1 ]; then ok "truncated archive: one line"; else fail "truncated archive: one line" "$OUT"; fi
printf 'garbage' >"$W/garbage.tar"
expect_exit 3 "not a tar" "$BOSUN" inspect "docker-archive:$W/garbage.tar"
expect_exit 3 "missing archive" "$BOSUN" inspect "docker-archive:$W/missing.tar"
expect_exit 3 "missing layout" "$BOSUN" inspect "oci:$W/missing"

# A registry that is down: exit 4, naming it.
port=$(free_port)
expect_exit 4 "registry down" "$BOSUN" inspect --retries 1 "127.0.0.1:$port/x/y:1"
expect_out "names the registry" "127.0.0.1:$port"
expect_exit 4 "push to a registry that is down" "$BOSUN" -q copy --retries 1 "oci:$W/good:1.0" "127.0.0.1:$port/x/y:1"

# Output files that are devices are written in place, never replaced.
expect_exit 0 "--digest-file /dev/null" "$BOSUN" -q copy --digest-file /dev/null "oci:$W/good:1.0" "oci:$W/devnull:1.0"
[ -c /dev/null ] && ok "/dev/null is still a device" || fail "/dev/null is still a device"
expect_exit 0 "--digest-file /dev/stdout" "$BOSUN" -q copy --digest-file /dev/stdout "oci:$W/good:1.0" "oci:$W/devout:1.0"
[ "$(printf '%s\n' "$OUT" | grep -c "$IMG_MANIFEST_DIGEST")" -eq 2 ] && ok "digest written through /dev/stdout" || fail "digest written through /dev/stdout" "$OUT"
[ -L /dev/stdout ] && ok "/dev/stdout is still a link" || fail "/dev/stdout is still a link"

# --platform: a list only where one build makes several images (build, ship).
mkdir -p "$W/ctx" && printf 'FROM scratch\n' >"$W/ctx/Dockerfile"
expect_exit 2 "build --platform with a platform twice" "$BOSUN" build --platform linux/amd64,linux/x86_64 "$W/ctx"
expect_out "the repeated platform is named" 'linux/x86_64 is given twice'
expect_exit 2 "build --platform with an empty entry" "$BOSUN" build --platform linux/amd64,,linux/arm64 "$W/ctx"
expect_exit 2 "build --platform with a bad entry" "$BOSUN" build --platform linux/amd64,arm64 "$W/ctx"
expect_out "the bad entry is named" 'invalid platform "arm64"'
expect_exit 2 "several platforms into a docker archive" "$BOSUN" build --platform linux/amd64,linux/arm64 \
    --output "docker-archive:$W/x.tar" "$W/ctx"
expect_out "a docker archive holds one platform" 'docker archive holds one platform'
expect_exit 2 "copy --platform takes one platform" "$BOSUN" copy --platform linux/amd64,linux/arm64 "oci:$W/good:1.0" "oci:$W/two:1"
expect_exit 2 "ship --platform with a platform twice" "$BOSUN" ship --no-push --db "$W/empty" \
    --report-dir "$W/rep" --platform linux/arm64,linux/arm64/v8 "$W/ctx"
expect_out "ship names the repeated platform" "linux/arm64/v8 is given twice"

# Progress: plain lines in CI logs, bars redrawn in place on a terminal,
# nothing with -q.
expect_exit 0 "copy with plain progress" env BOSUN_PROGRESS=plain "$BOSUN" copy "oci:$W/good:1.0" "oci:$W/prog1:1.0"
expect_out "plain progress names the blob and says done" 'sha256:[0-9a-f]{12} +done'
expect_no_out "plain progress has no escape codes" $'\033'
OUT=$(env -u CI -u TF_BUILD -u JENKINS_URL script -qec "$BOSUN copy oci:$W/good:1.0 oci:$W/prog2:1.0" /dev/null 2>&1) || true
printf '%s' "$OUT" | grep -q $'\033\[' && ok "a terminal gets redrawn bars" || fail "a terminal gets redrawn bars" "$OUT"
OUT=$(CI=true script -qec "$BOSUN copy oci:$W/good:1.0 oci:$W/prog4:1.0" /dev/null 2>&1) || true
printf '%s' "$OUT" | grep -q $'\033\[' && fail "CI logs get plain lines even on a pty" "$OUT" || ok "CI logs get plain lines even on a pty"
OUT=$(NO_COLOR=1 script -qec "$BOSUN -q copy oci:$W/good:1.0 oci:$W/prog3:1.0" /dev/null 2>&1) || true
printf '%s' "$OUT" | grep -q 'sha256:[0-9a-f]*  *done' && fail "-q silences progress" "$OUT" || ok "-q silences progress"
finish
