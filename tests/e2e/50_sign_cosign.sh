#!/usr/bin/env bash
# Signing, attestations and verification against a real registry, with
# independent oracles: curl reads the .sig/.att manifests, openssl verifies
# the signatures (simple-signing payload and DSSE PAE computed here), and a
# Python script (python3-nacl + hashlib.scrypt) reads and writes cosign's
# encrypted key format.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

W=$(tmpdir_new sign)
cd "$W" || exit 1
export COSIGN_PASSWORD=pw1
unset BOSUN_KEY_PASSWORD BOSUN_PASSWORD
registry_start_open
make_busybox_oci "$W/bb" 1.0 >/dev/null
D1=$IMG_MANIFEST_DIGEST
"$BOSUN" copy -q "oci:$W/bb:1.0" "$REG/app/bb:1.0" >/dev/null
make_multilayer_oci "$W/other" 1 1 v1 >/dev/null
D2=$IMG_MANIFEST_DIGEST
"$BOSUN" copy -q "oci:$W/other:v1" "$REG/app/other:v1" >/dev/null
ACC='Accept: application/vnd.oci.image.manifest.v1+json'
man() { curl -sf -H "$ACC" "$REG_URL/v2/$1/manifests/$2"; }
blob() { curl -sf "$REG_URL/v2/$1/blobs/$2"; }
jq_() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

# ---- keys
expect_exit 0 "keygen" "$BOSUN" keygen --output-key-prefix k1
[ "$(stat -c %a k1.key)" = 600 ] && ok "private key is mode 600" || fail "private key is mode 600"
head -1 k1.key | grep -q 'BEGIN ENCRYPTED SIGSTORE PRIVATE KEY' && ok "sigstore PEM type" || fail "sigstore PEM type"
expect_exit 2 "keygen refuses to overwrite" "$BOSUN" keygen --output-key-prefix k1
cat >nacl_key.py <<'PY'
import base64, hashlib, json, os, sys
import nacl.secret
def scrypt(pw, salt, n, r, p):
    return hashlib.scrypt(pw.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 << 20, dklen=32)
if sys.argv[1] == "decrypt":        # decrypt KEYFILE PASSWORD > DER
    lines = open(sys.argv[2]).read().strip().splitlines()
    body = json.loads(base64.b64decode("".join(lines[1:-1])))
    assert body["kdf"]["name"] == "scrypt" and body["cipher"]["name"] == "nacl/secretbox"
    prm = body["kdf"]["params"]
    assert (prm["N"], prm["r"], prm["p"]) == (65536, 8, 1), prm
    key = scrypt(sys.argv[3], base64.b64decode(body["kdf"]["salt"]), prm["N"], prm["r"], prm["p"])
    nonce = base64.b64decode(body["cipher"]["nonce"])
    sys.stdout.buffer.write(nacl.secret.SecretBox(key).decrypt(nonce + base64.b64decode(body["ciphertext"])))
else:                               # encrypt DERFILE PASSWORD TYPE > PEM
    der = open(sys.argv[2], "rb").read()
    salt, nonce = os.urandom(32), os.urandom(24)
    ct = nacl.secret.SecretBox(scrypt(sys.argv[3], salt, 65536, 8, 1)).encrypt(der, nonce).ciphertext
    body = json.dumps({"kdf": {"name": "scrypt", "params": {"N": 65536, "r": 8, "p": 1},
                       "salt": base64.b64encode(salt).decode()},
                       "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
                       "ciphertext": base64.b64encode(ct).decode()}).encode()
    b = base64.b64encode(body).decode()
    print("-----BEGIN %s-----" % sys.argv[4])
    for i in range(0, len(b), 64): print(b[i:i + 64])
    print("-----END %s-----" % sys.argv[4])
PY
check "python decrypts bosun's key" sh -c "'$PYTHON' nacl_key.py decrypt k1.key pw1 > k1.der"
check "decrypted key's public half is k1.pub" sh -c "openssl pkey -inform DER -in k1.der -pubout | cmp - k1.pub"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER -out k2.der 2>/dev/null
openssl pkey -inform DER -in k2.der -pubout -out k2.pub
"$PYTHON" nacl_key.py encrypt k2.der pw2 "ENCRYPTED COSIGN PRIVATE KEY" >k2.key
chmod 600 k2.key

# ---- sign
# app/bb is signed in the legacy format only, so that the tamper cases below
# (changed payload, other identity) test it alone: with the default "both"
# the untouched bundle would still verify (51_sign_bundle.sh tampers bundles).
expect_exit 0 "sign by tag" "$BOSUN" sign --signature-format legacy --key k1.key "$REG/app/bb:1.0"
[ "$(printf '%s\n' "$OUT" | tail -1)" = "$D1" ] && ok "sign prints the digest" || fail "sign prints the digest" "$OUT"
T1="sha256-${D1#sha256:}.sig"
man app/bb "$T1" >sig.json
want='{"critical":{"identity":{"docker-reference":"'$REG'/app/bb"},"image":{"docker-manifest-digest":"'$D1'"},"type":"cosign container image signature"},"optional":null}'
blob app/bb "$(jq_ 'd["layers"][0]["digest"]' <sig.json)" >payload
[ "$(cat payload)" = "$want" ] && ok "payload bytes are exactly the simple-signing JSON" || fail "payload bytes" "$(cat payload)" "$want"
[ "$(jq_ 'd["layers"][0]["mediaType"]' <sig.json)" = application/vnd.dev.cosign.simplesigning.v1+json ] && ok "layer media type" || fail "layer media type"
jq_ 'd["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"]' <sig.json | base64 -d >sig.der
check "openssl verifies the signature over the payload" openssl dgst -sha256 -verify k1.pub -signature sig.der payload
expect_exit 0 "second key signs (legacy COSIGN key written by python)" env COSIGN_PASSWORD=pw2 "$BOSUN" sign --signature-format legacy --key k2.key -a env=prod "$REG/app/bb@$D1"
man app/bb "$T1" >sig2.json
[ "$(jq_ 'len(d["layers"])' <sig2.json)" = 2 ] && ok "signing again appends a layer" || fail "signing again appends a layer" "$(cat sig2.json)"
blob app/bb "$(jq_ 'd["layers"][1]["digest"]' <sig2.json)" >payload2
want2='{"critical":{"identity":{"docker-reference":"'$REG'/app/bb"},"image":{"docker-manifest-digest":"'$D1'"},"type":"cosign container image signature"},"optional":{"env":"prod"}}'
[ "$(cat payload2)" = "$want2" ] && ok "annotations go into optional" || fail "annotations go into optional" "$(cat payload2)"
jq_ 'd["layers"][1]["annotations"]["dev.cosignproject.cosign/signature"]' <sig2.json | base64 -d >sig2.der
check "openssl verifies the second signature with k2.pub" openssl dgst -sha256 -verify k2.pub -signature sig2.der payload2
expect_exit 3 "wrong password: exit 3" env COSIGN_PASSWORD=nope "$BOSUN" sign --key k1.key "$REG/app/bb:1.0"
expect_out "wrong password message" "wrong password"

# ---- verify
expect_exit 0 "verify with k1" "$BOSUN" verify --key k1.pub "$REG/app/bb:1.0"
expect_out "verify names key and digest" "verified by k1.pub .*signed 20"
expect_out "verify prints the digest" "Verified .*@$D1"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k3.pem 2>/dev/null
openssl pkey -in k3.pem -pubout -out k3.pub
expect_exit 1 "wrong key: exit 1" "$BOSUN" verify --key k3.pub "$REG/app/bb:1.0"
expect_out "wrong key reason" "does not verify with any given key"
expect_exit 1 "unsigned image: exit 1" "$BOSUN" verify --key k1.pub "$REG/app/other:v1"
expect_out "no signature reason" "no signature"
printf '{"keys":{"allOf":["k1.pub","k2.pub"]}}' >both.json
printf '{"keys":{"allOf":["k1.pub","k3.pub"]}}' >k1k3.json
printf '{"keys":{"anyOf":["k3.pub","k2.pub"]}}' >any.json
expect_exit 0 "policy allOf k1+k2 passes" "$BOSUN" verify --policy both.json "$REG/app/bb:1.0"
expect_exit 1 "policy allOf k1+k3 fails" "$BOSUN" verify --policy k1k3.json "$REG/app/bb:1.0"
expect_out "names the missing key" "k3.pub.*all-of"
expect_exit 0 "policy anyOf k3|k2 passes" "$BOSUN" verify --policy any.json "$REG/app/bb:1.0"

# Plain PKCS#8 key (openssl-generated) signs; bosun and openssl verify.
chmod 644 k3.pem
expect_exit 0 "plain PKCS#8 key signs" "$BOSUN" sign --key k3.pem "$REG/app/other:v1"
expect_out "group-readable key warns" "readable by group or others"
expect_exit 0 "verify with k3" "$BOSUN" verify --key k3.pub "$REG/app/other:v1"

# Tamper: a signature copied from another image's tag.
T2="sha256-${D2#sha256:}.sig"
man app/other "$T2" >other_sig.json
curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @other_sig.json "$REG_URL/v2/app/bb/manifests/$T1" >/dev/null
# the blobs live in app/other; mount them into app/bb
for dg in $(jq_ '" ".join([d["config"]["digest"]]+[l["digest"] for l in d["layers"]])' <other_sig.json); do
	curl -sf -X POST "$REG_URL/v2/app/bb/blobs/uploads/?mount=$dg&from=app/other" >/dev/null
done
curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @other_sig.json "$REG_URL/v2/app/bb/manifests/$T1" >/dev/null
expect_exit 1 "signature copied from another image: exit 1" "$BOSUN" verify --key k3.pub "$REG/app/bb:1.0"
expect_out "digest mismatch reason" "digest mismatch"

# Tamper: changed payload (a new blob, same signature annotation).
put_sig() { # put_sig PAYLOADFILE SIGB64 [MEDIATYPE]: write a one-layer .sig manifest for app/bb
	"$PYTHON" - "$@" <<'PY' >m.json
import hashlib, json, sys
p = open(sys.argv[1], "rb").read()
cfg = b"{}"
print(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(cfg), "digest": "sha256:" + hashlib.sha256(cfg).hexdigest()},
  "layers": [{"mediaType": sys.argv[3] if len(sys.argv) > 3 else "application/vnd.dev.cosign.simplesigning.v1+json",
    "size": len(p), "digest": "sha256:" + hashlib.sha256(p).hexdigest(),
    "annotations": {"dev.cosignproject.cosign/signature": sys.argv[2]}}]}))
PY
	for f in "$1" cfg; do
		dg="sha256:$(sha256sum "$f" | cut -d' ' -f1)"
		loc=$(curl -sf -D - -o /dev/null -X POST "$REG_URL/v2/app/bb/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
		case "$loc" in http*) ;; *) loc="$REG_URL$loc" ;; esac
		case "$loc" in *\?*) loc="$loc&digest=$dg" ;; *) loc="$loc?digest=$dg" ;; esac
		curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$f" "$loc" >/dev/null
	done
	curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @m.json "$REG_URL/v2/app/bb/manifests/$T1" >/dev/null
}
printf '{}' >cfg
sed 's/app\/bb/app\/bX/' payload >payload_changed
put_sig payload_changed "$(base64 -w0 sig.der)"
expect_exit 1 "changed payload: exit 1" "$BOSUN" verify --key k1.pub "$REG/app/bb:1.0"
expect_out "changed payload reason" "does not verify"
# Signed by k1 but naming another repository.
printf '%s' "$want" | sed "s#$REG/app/bb#$REG/app/evil#" >payload_evil
openssl pkey -inform DER -in k1.der -out k1.pem
openssl dgst -sha256 -sign k1.pem -out sig_evil.der payload_evil
put_sig payload_evil "$(base64 -w0 sig_evil.der)"
expect_exit 1 "identity of another repository: exit 1" "$BOSUN" verify --key k1.pub "$REG/app/bb:1.0"
expect_out "identity mismatch reason" "identity mismatch"

# Bad input: exit 3.
printf 'not json at all' >payload_nj
put_sig payload_nj "$(base64 -w0 sig.der)"
expect_exit 3 "payload not JSON: exit 3" "$BOSUN" verify --key k1.pub "$REG/app/bb:1.0"
put_sig payload "$(base64 -w0 sig.der)" application/octet-stream
expect_exit 3 "extra layer of a foreign type: exit 3" "$BOSUN" verify --key k1.pub "$REG/app/bb:1.0"
"$PYTHON" -c "
import json; d=json.load(open('m.json')); d['layers']=[]; print(json.dumps(d))" >m0.json
curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @m0.json "$REG_URL/v2/app/bb/manifests/$T1" >/dev/null
expect_exit 3 "signature manifest without layers: exit 3" "$BOSUN" verify --key k1.pub "$REG/app/bb:1.0"
printf -- '-----BEGIN PUBLIC KEY-----\nnot base64!!\n-----END PUBLIC KEY-----\n' >bad.pub
expect_exit 3 "malformed PEM: exit 3" "$BOSUN" verify --key bad.pub "$REG/app/bb:1.0"
head -c 300 k1.key >trunc.key
expect_exit 3 "truncated encrypted key: exit 3" "$BOSUN" sign --key trunc.key "$REG/app/bb:1.0"
printf '{"keys":' >badpol.json
expect_exit 3 "malformed policy: exit 3" "$BOSUN" verify --policy badpol.json "$REG/app/bb:1.0"
expect_exit 4 "registry down: exit 4" "$BOSUN" verify --retries 0 --key k1.pub "127.0.0.1:$(free_port)/app/bb:1.0"

# ---- attestations (on app/other, signed by k3 above)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
old=$(date -u -d '-10 days' +%Y-%m-%dT%H:%M:%SZ)
vuln() { printf '{"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":"bosun"},"scanner":{"uri":"bosun","version":"1","db":{"uri":"","version":""},"result":{"findings":[{"id":"CVE-1","severity":"%s"}]}},"metadata":{"scanStartedOn":"%s","scanFinishedOn":"%s"}}' "$1" "$2" "$2"; }
vuln MEDIUM "$old" >vuln_old.json
expect_exit 0 "attest vuln" "$BOSUN" attest --key k3.pem --type vuln --predicate vuln_old.json "$REG/app/other:v1"
TA="sha256-${D2#sha256:}.att"
man app/other "$TA" >att.json
[ "$(jq_ 'd["layers"][0]["mediaType"]' <att.json)" = application/vnd.dsse.envelope.v1+json ] && ok "att layer media type" || fail "att layer media type"
[ "$(jq_ 'd["layers"][0]["annotations"]["predicateType"]' <att.json)" = https://cosign.sigstore.dev/attestation/vuln/v1 ] && ok "predicateType annotation" || fail "predicateType annotation"
blob app/other "$(jq_ 'd["layers"][0]["digest"]' <att.json)" >env.json
jq_ 'd["payloadType"]' <env.json >ptype
jq_ 'd["payload"]' <env.json | base64 -d >stmt
jq_ 'd["signatures"][0]["sig"]' <env.json | base64 -d >env_sig.der
{ printf 'DSSEv1 %d %s %d ' "$(wc -c <ptype | awk '{print $1-1}')" "$(cat ptype)" "$(wc -c <stmt)"; cat stmt; } >pae
check "openssl verifies the DSSE signature over the PAE" openssl dgst -sha256 -verify k3.pub -signature env_sig.der pae
[ "$(jq_ 'd["subject"][0]["digest"]["sha256"]' <stmt)" = "${D2#sha256:}" ] && ok "statement subject is the image digest" || fail "statement subject"
[ "$(jq_ 'd["_type"]' <stmt)" = https://in-toto.io/Statement/v1 ] && ok "in-toto Statement v1" || fail "in-toto Statement v1"
expect_exit 0 "verify --attestation vuln" "$BOSUN" verify --key k3.pub --attestation vuln "$REG/app/other:v1"
expect_out "attestation reported" "vuln/v1 verified by k3.pub"
expect_exit 1 "missing slsaprovenance attestation: exit 1" "$BOSUN" verify --key k3.pub --attestation slsaprovenance "$REG/app/other:v1"
printf '{"keys":{"anyOf":["k3.pub"]},"attestations":["vuln"],"vulnerabilities":{"maxSeverity":"high","maxAge":"7d"}}' >gate.json
expect_exit 1 "stale scan under maxAge: exit 1" "$BOSUN" verify --policy gate.json "$REG/app/other:v1"
expect_out "stale scan reason" "stale scan"
vuln CRITICAL "$now" >vuln_crit.json
expect_exit 0 "attest a fresh scan" "$BOSUN" attest --key k3.pem --type vuln --predicate vuln_crit.json "$REG/app/other:v1"
expect_exit 1 "critical finding over maxSeverity high: exit 1" "$BOSUN" verify --policy gate.json "$REG/app/other:v1"
expect_out "severity reason" "above high"
vuln LOW "$now" >vuln_ok.json
sleep 1
vuln LOW "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >vuln_ok.json
expect_exit 0 "attest a clean scan" "$BOSUN" attest --key k3.pem --type vuln --predicate vuln_ok.json "$REG/app/other:v1"
expect_exit 0 "gate passes on the latest clean scan" "$BOSUN" verify --policy gate.json "$REG/app/other:v1"
# An attestation whose subject is another digest.
"$PYTHON" - "$D1" <<'PY' >stmt_other
import json, sys
print(json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "x", "digest": {"sha256": sys.argv[1][7:]}}],
  "predicateType": "https://openvex.dev/ns", "predicate": {}}), end="")
PY
{ printf 'DSSEv1 28 application/vnd.in-toto+json %d ' "$(wc -c <stmt_other)"; cat stmt_other; } >pae_other
openssl dgst -sha256 -sign k3.pem -out sig_other.der pae_other
printf '{"payloadType":"application/vnd.in-toto+json","payload":"%s","signatures":[{"keyid":"","sig":"%s"}]}' "$(base64 -w0 stmt_other)" "$(base64 -w0 sig_other.der)" >env_other.json
"$PYTHON" - "$TA" <<'PY' >m_att.json
import hashlib, json, sys
p = open("env_other.json", "rb").read()
cfg = b"{}"
print(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": "sha256:" + hashlib.sha256(cfg).hexdigest()},
  "layers": [{"mediaType": "application/vnd.dsse.envelope.v1+json", "size": len(p), "digest": "sha256:" + hashlib.sha256(p).hexdigest(),
    "annotations": {"dev.cosignproject.cosign/signature": "", "predicateType": "https://openvex.dev/ns"}}]}))
PY
for f in env_other.json cfg; do
	dg="sha256:$(sha256sum "$f" | cut -d' ' -f1)"
	loc=$(curl -sf -D - -o /dev/null -X POST "$REG_URL/v2/app/other/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	case "$loc" in http*) ;; *) loc="$REG_URL$loc" ;; esac
	case "$loc" in *\?*) loc="$loc&digest=$dg" ;; *) loc="$loc?digest=$dg" ;; esac
	curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$f" "$loc" >/dev/null
done
curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @m_att.json "$REG_URL/v2/app/other/manifests/$TA" >/dev/null
expect_exit 1 "attestation for another digest: exit 1" "$BOSUN" verify --key k3.pub --attestation openvex "$REG/app/other:v1"
expect_out "subject mismatch reason" "subject digest .* is not the image"
echo 'free text' >custom.txt
expect_exit 0 "attest custom text" "$BOSUN" attest --key k3.pem --type custom --predicate custom.txt "$REG/app/other:v1"
expect_exit 0 "verify custom" "$BOSUN" verify --key k3.pub --attestation custom "$REG/app/other:v1"
echo 'not json' >bad_pred.json
expect_exit 3 "non-JSON predicate: exit 3" "$BOSUN" attest --key k3.pem --type openvex --predicate bad_pred.json "$REG/app/other:v1"
expect_exit 2 "unknown type: exit 2" "$BOSUN" attest --key k3.pem --type bogus --predicate custom.txt "$REG/app/other:v1"

# Six signers of one image at once (parallel pipeline stages): registries
# have no compare-and-swap on tags, so each read-modify-write of the
# signature manifest can drop another's; every signature must survive.
for i in 1 2 3 4 5 6; do COSIGN_PASSWORD=pw1 "$BOSUN" keygen --output-key-prefix race$i >/dev/null 2>&1; done
lost=0 failed=0
for round in 1 2 3; do
    "$BOSUN" -q copy "oci:$W/bb:1.0" "$REG/app/race$round:1.0" >/dev/null 2>&1
    pids=""
    for i in 1 2 3 4 5 6; do
        "$BOSUN" -q sign --key race$i.key "$REG/app/race$round:1.0" >"race$round-$i.out" 2>&1 &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p" || failed=$((failed + 1)); done
    for i in 1 2 3 4 5 6; do
        "$BOSUN" -q verify --key race$i.pub "$REG/app/race$round:1.0" >/dev/null 2>&1 || lost=$((lost + 1))
    done
done
[ "$failed" -eq 0 ] && ok "18 concurrent signs (3 rounds of 6) all succeed" || fail "concurrent signs: $failed failed" "$(cat race*-*.out | head -5)"
[ "$lost" -eq 0 ] && ok "every concurrent signature verifies (none dropped by another writer)" || fail "concurrent signs: $lost of 18 signatures lost"

finish
