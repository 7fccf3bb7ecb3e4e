#!/usr/bin/env bash
# Sigstore bundles as OCI 1.1 referrers (cosign 3's format), against Debian's
# docker-registry (no referrers API: the tag schema path) and, through
# tests/lib/referrers_proxy.py, a registry that answers the referrers API.
# Independent oracles: sigstore-js (@sigstore/bundle + @sigstore/verify, from
# the npm registry) verifies every bundle offline with the public key;
# tests/lib/referrers.py checks the referrers index and manifests against the
# distribution and image specs; openssl verifies the legacy signatures.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"
source "$TESTLIB/sigstore.sh"

W=$(tmpdir_new bundle)
cd "$W" || exit 1
export COSIGN_PASSWORD=pw1
unset BOSUN_KEY_PASSWORD BOSUN_PASSWORD
if ! SIGSTORE_JS=$(sigstore_js_dir); then
    echo "Bail out! sigstore-js is needed as the oracle: $SIGSTORE_JS"
    exit 1
fi
registry_start_open
RA=$REG RA_URL=$REG_URL
make_busybox_oci "$W/bb" 1.0 >/dev/null
D1=$IMG_MANIFEST_DIGEST
"$BOSUN" copy -q "oci:$W/bb:1.0" "$RA/app/bb:1.0" >/dev/null
make_multilayer_oci "$W/other" 1 1 v1 >/dev/null
D2=$IMG_MANIFEST_DIGEST
"$BOSUN" copy -q "oci:$W/other:v1" "$RA/app/other:v1" >/dev/null
refs() { "$PYTHON" "$TESTLIB/referrers.py" "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$1"; }
# every bundle the last `refs check` wrote must verify with sigstore-js
all_verify() { # KEY DIGEST
    local n=0 bad=0 f
    for f in bundles/*.json; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        sigstore_verify "$f" "$1" "$2" >/dev/null 2>>sjs.err || bad=$((bad + 1))
    done
    [ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

"$BOSUN" keygen --output-key-prefix k1 >/dev/null 2>&1
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k2.pem 2>/dev/null
openssl pkey -in k2.pem -pubout -out k2.pub

# ---- --signature-format bundle: no legacy tag, one referrer
expect_exit 0 "sign --signature-format bundle" "$BOSUN" sign --signature-format bundle --key k1.key "$RA/app/bb:1.0"
[ "$(code "$RA_URL/v2/app/bb/manifests/sha256-${D1#sha256:}.sig")" = 404 ] && ok "bundle format writes no .sig tag" || fail "bundle format writes no .sig tag"
check "referrers tag schema index matches the specs (1 signature bundle)" refs check "$RA_URL" app/bb "$D1" 1 0
expect_exit 0 "docker-registry has no referrers API: the tag schema was used" refs check "$RA_URL" app/bb "$D1"
[ "$(printf '%s\n' "$OUT" | tail -1)" = tag ] && ok "path: tag schema" || fail "path: tag schema" "$OUT"
B1=$(ls bundles/sign-*.json)
expect_exit 0 "sigstore-js verifies the signature bundle with k1.pub" sigstore_verify "$B1" k1.pub "$D1"
expect_out "sigstore-js: statement is cosign 3's signature statement about the image" "\"predicateType\":\"https://sigstore.dev/cosign/sign/v1\",\"subjects\":\\[\"$D1\"\\]"
expect_out "bundle's key hint is base64(sha256(PKIX DER))" '"hintMatches":true'
expect_exit 1 "sigstore-js refuses another key" sigstore_verify "$B1" k2.pub "$D1"
expect_out "refusal is a signature failure" "SIGNATURE_ERROR|signature"
"$PYTHON" - "$B1" changed.json <<'PY'
import base64, json, sys
b = json.load(open(sys.argv[1]))
p = bytearray(base64.b64decode(b["dsseEnvelope"]["payload"]))
p[p.index(b"sha256") + 12] ^= 1          # one byte of the statement
b["dsseEnvelope"]["payload"] = base64.b64encode(bytes(p)).decode()
json.dump(b, open(sys.argv[2], "w"))
PY
expect_exit 1 "sigstore-js refuses a changed byte" sigstore_verify changed.json k1.pub
expect_exit 0 "bosun verify accepts a bundle-only signature" "$BOSUN" verify --key k1.pub "$RA/app/bb:1.0"
expect_out "verify names the bundle" "signature bundle sha256:[0-9a-f]{12}: verified by k1.pub"
expect_exit 1 "bosun verify with another key: exit 1" "$BOSUN" verify --key k2.pub "$RA/app/bb:1.0"
expect_out "wrong key reason" "bad signature: signature bundle .* does not verify"
expect_exit 2 "--signature-format bogus: exit 2" "$BOSUN" sign --signature-format bogus --key k1.key "$RA/app/bb:1.0"

# ---- attestations as bundles
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
old=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
vuln() { printf '{"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":"bosun"},"scanner":{"uri":"bosun","version":"1","db":{"uri":"","version":""},"result":{"findings":[{"id":"CVE-1","severity":"%s"}]}},"metadata":{"scanStartedOn":"%s","scanFinishedOn":"%s"}}' "$1" "$2" "$2"; }
vuln LOW "$old" >vuln_old_ok.json
vuln CRITICAL "$now" >vuln_new_bad.json
expect_exit 0 "attest vuln --signature-format bundle" "$BOSUN" attest --signature-format bundle --key k1.key --type vuln --predicate vuln_old_ok.json "$RA/app/bb:1.0"
[ "$(code "$RA_URL/v2/app/bb/manifests/sha256-${D1#sha256:}.att")" = 404 ] && ok "bundle format writes no .att tag" || fail "bundle format writes no .att tag"
rm -rf bundles
check "index after sign + attest matches the specs (1 + 1)" refs check "$RA_URL" app/bb "$D1" 1 1
BA=$(ls bundles/att-*.json)
expect_exit 0 "sigstore-js verifies the attestation bundle; subject = image digest" sigstore_verify "$BA" k1.pub "$D1"
expect_out "attestation statement is in-toto v1 with the vuln predicate" '"type":"https://in-toto.io/Statement/v1","predicateType":"https://cosign.sigstore.dev/attestation/vuln/v1"'
expect_exit 1 "sigstore-js: the attestation bundle does not name another image" sigstore_verify "$BA" k1.pub "$D2"
printf '{"keys":{"anyOf":["k1.pub"]},"attestations":["vuln"],"vulnerabilities":{"maxSeverity":"high","maxAge":"7d"}}' >gate.json
expect_exit 0 "verify --policy with the passing scan bundle" "$BOSUN" verify --policy gate.json "$RA/app/bb:1.0"
expect_out "bundle attestation reported" "attestation bundle sha256:[0-9a-f]{12}: https://cosign.sigstore.dev/attestation/vuln/v1 verified by (\\./)?k1.pub"
expect_exit 0 "attest a newer, failing scan (bundle)" "$BOSUN" attest --signature-format bundle --key k1.key --type vuln --predicate vuln_new_bad.json "$RA/app/bb:1.0"
expect_exit 1 "stale passing scan + newer failing one: the newest decides (exit 1)" "$BOSUN" verify --policy gate.json "$RA/app/bb:1.0"
expect_out "reason: findings over the limit in the newest scan" "vulnerabilities over the limit: the scan of $now"
# the same with the legacy format next to the bundles: still the newest
vuln LOW "$(date -u -d '-1 hours' +%Y-%m-%dT%H:%M:%SZ)" >vuln_mid_ok.json
expect_exit 0 "attest a passing scan in the legacy format, older than the failing bundle" "$BOSUN" attest --signature-format legacy --key k1.key --type vuln --predicate vuln_mid_ok.json "$RA/app/bb:1.0"
expect_exit 1 "legacy and bundle attestations together: the newest (bundle) decides" "$BOSUN" verify --policy gate.json "$RA/app/bb:1.0"

# ---- tamper cases
# a real bundle of bb, attached as a referrer of other (subject = other)
expect_exit 0 "forge: attach bb's signature bundle to other" refs attach "$RA_URL" app/other "$D2" "$B1"
expect_exit 1 "copied bundle on another image: not verified" "$BOSUN" verify --key k1.pub "$RA/app/other:v1"
expect_out "reason: the statement names another digest" "digest mismatch: signature bundle .* is for sha256:${D1#sha256:}"
# a referrer whose subject is bb, listed in other's index
"$BOSUN" copy -q "oci:$W/bb:1.0" "$RA/app/other:bb" >/dev/null
expect_exit 0 "forge: list a referrer of bb in other's index" refs attach "$RA_URL" app/other "$D2" "$B1" "$D1"
expect_exit 1 "bundle whose subject is another digest: not verified" "$BOSUN" verify --key k1.pub "$RA/app/other:v1"
expect_out "reason: referrer of another image" "is a referrer of $D1"
# a bundle signed by another key, attached to bb: the good one still verifies, --key k2 fails
cat >k2bundle.py <<'PY'
import base64, hashlib, json, subprocess, sys
st = json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [{"digest": {"sha256": sys.argv[1][7:]}}],
                 "predicateType": "https://sigstore.dev/cosign/sign/v1", "predicate": {}}).encode()
t = b"application/vnd.in-toto+json"
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(st), st)
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", "k2.pem"], input=pae, capture_output=True, check=True).stdout
der = subprocess.run(["openssl", "pkey", "-pubin", "-in", "k2.pub", "-outform", "DER"], capture_output=True, check=True).stdout
print(json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
    "verificationMaterial": {"publicKey": {"hint": base64.b64encode(hashlib.sha256(der).digest()).decode()}, "tlogEntries": []},
    "dsseEnvelope": {"payload": base64.b64encode(st).decode(), "payloadType": t.decode(),
                     "signatures": [{"sig": base64.b64encode(sig).decode()}]}}))
PY
"$PYTHON" k2bundle.py "$D1" >k2bundle.json
check "oracle: sigstore-js accepts the python-made k2 bundle" sigstore_verify k2bundle.json k2.pub "$D1"
check "forge: attach a k2 bundle to bb" refs attach "$RA_URL" app/bb "$D1" k2bundle.json
expect_exit 0 "bosun verifies a bundle it did not write (k2, python + openssl)" "$BOSUN" verify --key k2.pub "$RA/app/bb:1.0"
expect_exit 0 "k1's own bundle still verifies next to the k2 one" "$BOSUN" verify --key k1.pub "$RA/app/bb:1.0"

# ---- default format: both
"$BOSUN" copy -q "oci:$W/bb:1.0" "$RA/app/both:1.0" >/dev/null
expect_exit 0 "sign (default: both formats)" "$BOSUN" sign --key k1.key "$RA/app/both:1.0"
[ "$(code "$RA_URL/v2/app/both/manifests/sha256-${D1#sha256:}.sig")" = 200 ] && ok "both: the legacy .sig tag is there" || fail "both: the legacy .sig tag is there"
curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$RA_URL/v2/app/both/manifests/sha256-${D1#sha256:}.sig" >sig.json
curl -sf "$RA_URL/v2/app/both/blobs/$("$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])' <sig.json)" >payload
"$PYTHON" -c 'import json,sys,base64; sys.stdout.buffer.write(base64.b64decode(json.load(sys.stdin)["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"]))' <sig.json >sig.der
check "openssl verifies the legacy signature" openssl dgst -sha256 -verify k1.pub -signature sig.der payload
rm -rf bundles
check "both: the referrers index holds the signature bundle" refs check "$RA_URL" app/both "$D1" 1 0
check "both: sigstore-js verifies it" all_verify k1.pub "$D1"
expect_exit 0 "verify reads both formats" "$BOSUN" verify --key k1.pub "$RA/app/both:1.0"
expect_out "legacy signature reported" "^signature 1: verified by k1.pub"
expect_out "bundle reported" "^signature bundle sha256:"

# ---- several signers and attesters at once: nothing lost, index per spec
for i in 1 2 3 4 5 6; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out race$i.pem 2>/dev/null
    openssl pkey -in race$i.pem -pubout -out race$i.pub
done
echo '{"builder":{"id":"x"}}' >prov.json
lost=0 failed=0 badidx=0 badjs=0
for round in 1 2; do
    img="$RA/app/race$round:1.0"
    "$BOSUN" -q copy "oci:$W/bb:1.0" "$img" >/dev/null 2>&1
    pids=""
    for i in 1 2 3 4 5 6; do
        "$BOSUN" -q sign --key race$i.pem "$img" >"r$round-s$i.out" 2>&1 &
        pids="$pids $!"
        "$BOSUN" -q attest --key race$i.pem --type slsaprovenance --predicate prov.json "$img" >"r$round-a$i.out" 2>&1 &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p" || failed=$((failed + 1)); done
    rm -rf bundles
    refs check "$RA_URL" "app/race$round" "$D1" 6 6 >"r$round-idx.out" 2>&1 || badidx=$((badidx + 1))
    for i in 1 2 3 4 5 6; do
        "$BOSUN" -q verify --key race$i.pub --attestation slsaprovenance "$img" >/dev/null 2>&1 || lost=$((lost + 1))
    done
    n=0
    for f in bundles/*.json; do
        for i in 1 2 3 4 5 6; do
            if sigstore_verify "$f" race$i.pub "$D1" >/dev/null 2>&1; then n=$((n + 1)); break; fi
        done
    done
    [ "$n" -eq 12 ] || badjs=$((badjs + 1))
done
[ "$failed" -eq 0 ] && ok "24 concurrent signs and attests (2 rounds of 6 + 6) all succeed" || fail "concurrent: $failed failed" "$(cat r*-*.out | head -5)"
[ "$badidx" -eq 0 ] && ok "after concurrent writers the index lists exactly 6 + 6 bundles, per spec" || fail "concurrent index" "$(cat r*-idx.out | tail -5)"
[ "$lost" -eq 0 ] && ok "every concurrent signer's signature and attestation verifies (legacy and bundle)" || fail "concurrent: $lost of 12 verifications lost"
[ "$badjs" -eq 0 ] && ok "sigstore-js verifies all 12 concurrent bundles per round" || fail "concurrent: sigstore-js"

# ---- copy --with-signatures to a second registry, verify there
registry_start_open
RB=$REG RB_URL=$REG_URL
expect_exit 0 "copy --with-signatures to a second registry" "$BOSUN" copy --with-signatures "$RA/app/race1:1.0" "$RB/prod/app:1.0"
expect_exit 0 "verify at the second registry (signature + attestation)" "$BOSUN" verify --key race3.pub --attestation slsaprovenance "$RB/prod/app:1.0"
rm -rf bundles
check "the copied index matches the specs (6 + 6)" refs check "$RB_URL" prod/app "$D1" 6 6
[ "$(code "$RB_URL/v2/prod/app/manifests/sha256-${D1#sha256:}.sig")" = 200 ] && ok "legacy .sig copied" || fail "legacy .sig copied"
expect_exit 0 "copy --with-signatures again: idempotent" "$BOSUN" copy --with-signatures "$RA/app/race1:1.0" "$RB/prod/app:1.0"
rm -rf bundles
check "still 6 + 6 after a second copy" refs check "$RB_URL" prod/app "$D1" 6 6
expect_exit 0 "plain copy (no --with-signatures) to a third repository" "$BOSUN" copy "$RA/app/race1:1.0" "$RB/plain/app:1.0"
expect_exit 1 "without --with-signatures nothing verifies there" "$BOSUN" verify --key race3.pub "$RB/plain/app:1.0"
expect_exit 2 "--with-signatures needs two registries: exit 2" "$BOSUN" copy --with-signatures "$RA/app/race1:1.0" "oci:$W/out:1"

# ---- an image index: the signatures of each platform's manifest travel too
mkdir -p "$W/multi" && cp -a "$W/bb/." "$W/multi/"
"$PYTHON" - "$W/multi" >multi.ids <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
def put(b):
    h = hashlib.sha256(b).hexdigest()
    open(os.path.join(d, "blobs/sha256", h), "wb").write(b)
    return "sha256:" + h, len(b)
m0 = json.load(open(os.path.join(d, "index.json")))["manifests"][0]
man = json.load(open(os.path.join(d, "blobs/sha256", m0["digest"][7:])))
cfg = json.load(open(os.path.join(d, "blobs/sha256", man["config"]["digest"][7:])))
cfg.update(architecture="arm64", variant="v8")
cd, cs = put(json.dumps(cfg, separators=(",", ":")).encode())
md, ms = put(json.dumps(dict(man, config=dict(man["config"], digest=cd, size=cs)), separators=(",", ":")).encode())
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": m0["mediaType"], "digest": m0["digest"], "size": m0["size"], "platform": {"os": "linux", "architecture": "amd64"}},
    {"mediaType": m0["mediaType"], "digest": md, "size": ms, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}]}
xd, xs = put(json.dumps(index, separators=(",", ":")).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": index["mediaType"], "digest": xd, "size": xs,
    "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}, open(os.path.join(d, "index.json"), "w"))
print(xd, md)
PY
read -r XD MD <multi.ids
expect_exit 0 "push a 2-platform index" "$BOSUN" copy "oci:$W/multi:multi" "$RA/app/multi:1"
[ "$(printf '%s\n' "$OUT" | tail -1)" = "$XD" ] && ok "the index keeps its digest" || fail "the index keeps its digest" "$OUT"
signed=0
"$BOSUN" -q sign --key k1.key "$RA/app/multi:1" >/dev/null && signed=$((signed + 1))
"$BOSUN" -q sign --key k1.key "$RA/app/multi@$D1" >/dev/null && signed=$((signed + 1))
"$BOSUN" -q sign --key k1.key "$RA/app/multi@$MD" >/dev/null && signed=$((signed + 1))
"$BOSUN" -q attest --key k1.key --type vuln --predicate vuln_old_ok.json "$RA/app/multi@$MD" >/dev/null && signed=$((signed + 1))
[ "$signed" -eq 4 ] && ok "signed the index and both platforms, attested arm64" || fail "index signing: $signed of 4"
expect_exit 0 "copy --with-signatures of the index" "$BOSUN" copy --with-signatures "$RA/app/multi:1" "$RB/prod/multi:1"
expect_out "the index's manifests were covered" "of the index and its manifests"
expect_exit 0 "verify the index at the second registry" "$BOSUN" verify --key k1.pub "$RB/prod/multi:1"
expect_exit 0 "verify the amd64 manifest there (legacy and bundle)" "$BOSUN" verify --key k1.pub "$RB/prod/multi@$D1"
expect_out "amd64: both formats copied" "^signature bundle sha256:"
expect_exit 0 "verify the arm64 manifest and its attestation there" "$BOSUN" verify --key k1.pub --attestation vuln "$RB/prod/multi@$MD"
for d in "$D1" "$MD"; do
    [ "$(code "$RB_URL/v2/prod/multi/manifests/sha256-${d#sha256:}.sig")" = 200 ] && ok "legacy .sig of ${d:7:12} copied" || fail "legacy .sig of ${d:7:12} copied"
done
rm -rf bundles
check "arm64's copied referrers match the specs (1 + 1)" refs check "$RB_URL" prod/multi "$MD" 1 1
check "sigstore-js verifies arm64's copied bundles" all_verify k1.pub "$MD"
expect_exit 0 "plain copy of the index" "$BOSUN" copy "$RA/app/multi:1" "$RB/plain/multi:1"
expect_exit 1 "without --with-signatures a platform's manifest does not verify" "$BOSUN" verify --key k1.pub "$RB/plain/multi@$MD"

# ---- the referrers API path (a proxy in front of docker-registry that answers it)
if referrers_proxy_start "$RB"; then
    RP=$PROXY
    expect_exit 0 "copy to the referrers-API registry" "$BOSUN" copy "oci:$W/bb:1.0" "$RP/api/bb:1.0"
    expect_exit 0 "sign through the referrers API" "$BOSUN" sign -v --key k1.key "$RP/api/bb:1.0"
    expect_out "the registry indexed the bundle (OCI-Subject)" "signature bundle sha256:[0-9a-f]{64} \\(referrers API\\)"
    expect_exit 0 "attest through the referrers API" "$BOSUN" attest --key k1.key --type vuln --predicate vuln_old_ok.json "$RP/api/bb:1.0"
    [ "$(code "http://$RP/v2/api/bb/manifests/sha256-${D1#sha256:}")" = 404 ] && ok "API path: no tag schema index written" || fail "API path: no tag schema index written"
    rm -rf bundles
    expect_exit 0 "referrers API answer matches the specs (1 + 1)" refs check "http://$RP" api/bb "$D1" 1 1
    [ "$(printf '%s\n' "$OUT" | tail -1)" = api ] && ok "path: referrers API" || fail "path: referrers API" "$OUT"
    check "sigstore-js verifies the API-path bundles" all_verify k1.pub "$D1"
    expect_exit 0 "verify through the referrers API" "$BOSUN" verify --key k1.pub --attestation vuln "$RP/api/bb:1.0"
    expect_out "bundle found through the API" "signature bundle sha256:"
    expect_exit 0 "copy --with-signatures from the API registry to the tag-schema one" "$BOSUN" copy --with-signatures "$RP/api/bb:1.0" "$RA/fromapi/bb:1.0"
    expect_exit 0 "verify the copy (tag schema)" "$BOSUN" verify --key k1.pub --attestation vuln "$RA/fromapi/bb:1.0"
    expect_exit 0 "copy --with-signatures from tag schema to the API registry" "$BOSUN" copy --with-signatures "$RA/app/race2:1.0" "$RP/api/race2:1.0"
    rm -rf bundles
    check "API registry lists the 6 + 6 copied bundles" refs check "http://$RP" api/race2 "$D1" 6 6
    expect_exit 0 "verify the copy through the API" "$BOSUN" verify --key race5.pub --attestation slsaprovenance "$RP/api/race2:1.0"
    expect_exit 0 "copy --with-signatures of the index to the API registry" "$BOSUN" copy --with-signatures "$RA/app/multi:1" "$RP/api/multi:1"
    expect_exit 0 "verify arm64 and its attestation through the API" "$BOSUN" verify --key k1.pub --attestation vuln "$RP/api/multi@$MD"
    rm -rf bundles
    check "the API lists arm64's copied bundles (1 + 1)" refs check "http://$RP" api/multi "$MD" 1 1

    # ---- a paginated referrers API (Link: <...>; rel="next", distribution spec)
    paging() { curl -sf -o /dev/null -X POST --data "$1" "http://$RP/_test/paging"; }
    "$BOSUN" -q copy "oci:$W/bb:1.0" "$RP/api/pages:1.0" >/dev/null
    signed=0
    for i in 1 2 3 4 5; do
        "$BOSUN" -q sign --signature-format bundle --key race$i.pem "$RP/api/pages:1.0" >/dev/null && signed=$((signed + 1))
    done
    [ "$signed" -eq 5 ] && ok "5 signers, one bundle each, through the API" || fail "5 signers: $signed signed"
    check "the registry pages its referrers 2 at a time" paging '{"page_size":2}'
    curl -s -D page1.hdr -o page1.json -H 'Accept: application/vnd.oci.image.index.v1+json' "http://$RP/v2/api/pages/referrers/$D1"
    n1=$("$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["manifests"]))' page1.json 2>/dev/null)
    grep -qi '^link: <.*page=1.*>; rel="next"' page1.hdr && [ "$n1" = 2 ] &&
        ok "page 1 holds 2 of the 5 and links to the next" || fail "page 1" "$n1 $(cat page1.hdr)"
    # race5 signed last: its bundle is alone on page 3
    expect_exit 0 "verify finds the bundle on page 3" "$BOSUN" -v verify --key race5.pub "$RP/api/pages:1.0"
    expect_out "verify followed the 3 pages" "referrers of api/pages@sha256:[0-9a-f]{64}: 3 pages"
    expect_out "the page-3 bundle verified" "signature bundle sha256:[0-9a-f]{12}: verified by race5.pub"
    rm -rf bundles
    expect_exit 0 "oracle: the 3 pages hold the 5 bundles, per spec" refs check "http://$RP" api/pages "$D1" 5 0
    expect_out "oracle followed 3 pages" "^pages 3$"
    n5=0
    for f in bundles/sign-*.json; do sigstore_verify "$f" race5.pub "$D1" >/dev/null 2>&1 && n5=$((n5 + 1)); done
    [ "$n5" -eq 1 ] && ok "sigstore-js: one of the 5 paged bundles is race5's" || fail "sigstore-js on the paged bundles: $n5"
    expect_exit 0 "copy --with-signatures from the paginated API" "$BOSUN" copy --with-signatures "$RP/api/pages:1.0" "$RA/frompages/bb:1.0"
    rm -rf bundles
    check "every page's bundle was copied (5, tag schema)" refs check "$RA_URL" frompages/bb "$D1" 5 0
    expect_exit 0 "the page-3 signer verifies at the copy" "$BOSUN" verify --key race5.pub "$RA/frompages/bb:1.0"
    check "the registry's last page links back to the first" paging '{"page_size":2,"link":"loop"}'
    expect_exit 3 "a Link loop is refused: exit 3" "$BOSUN" verify --key race5.pub "$RP/api/pages:1.0"
    expect_out "reason: the loop" "Link rel=\"next\" of page 3 loops back to page 1"
    expect_exit 3 "copy --with-signatures refuses the loop too" "$BOSUN" copy --with-signatures "$RP/api/pages:1.0" "$RA/loop/bb:1.0"
    check "the registry links to a next page forever" paging '{"page_size":2,"link":"endless"}'
    expect_exit 3 "endless pages are capped: exit 3" "$BOSUN" verify --key race5.pub "$RP/api/pages:1.0"
    expect_out "reason: the page cap" "more than 64 pages"
    check "pagination off again" paging '{"page_size":0}'
    expect_exit 0 "one page again: verify passes" "$BOSUN" verify --key race5.pub "$RP/api/pages:1.0"
else
    fail "referrers API proxy starts"
fi

finish
