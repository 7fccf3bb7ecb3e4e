#!/usr/bin/env bash
# Authentication against real registries: htpasswd Basic, Bearer tokens
# (token and access_token answers, identity/refresh tokens), TLS with a
# test CA. Every credential source works; wrong credentials exit 4 naming
# the registry; no secret ever appears in bosun's output.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

W=$(tmpdir_new auth)
ALL="$W/all-output"
: >"$ALL"
# run bosun, keeping every byte it printed for the secret scan at the end
b() { "$BOSUN" "$@" 2>&1 | tee -a "$ALL"; return "${PIPESTATUS[0]}"; }
make_busybox_oci "$W/bb" 1.0 >/dev/null
want=$IMG_MANIFEST_DIGEST
PW="s3cret-Pa55word-$$"
export DOCKER_CONFIG="$W/empty-docker" REGISTRY_AUTH_FILE=
unset BOSUN_USERNAME BOSUN_PASSWORD
mkdir -p "$DOCKER_CONFIG"

auth_b64() { printf '%s:%s' "$1" "$2" | base64 -w0; }

run_suite() { # $1 = label
	local l=$1
	expect_exit 4 "$l: anonymous push is refused" b -q copy --retries 1 "oci:$W/bb:1.0" "$REG/auth/bb:1"
	expect_out "$l: message names the registry" "$REG"
	expect_exit 4 "$l: wrong password" b -q copy --retries 1 --creds "alice:wrong$PW" "oci:$W/bb:1.0" "$REG/auth/bb:1"
	expect_out "$l: says authentication failed" 'auth|401|denied|unauthorized'
	expect_exit 0 "$l: --creds" b -q copy --creds "alice:$PW" "oci:$W/bb:1.0" "$REG/auth/bb:1"
	[ "$(printf '%s\n' "$OUT" | tail -1)" = "$want" ] && ok "$l: pushed digest" || fail "$l: pushed digest" "$OUT"
	expect_exit 0 "$l: env BOSUN_USERNAME/BOSUN_PASSWORD" env BOSUN_USERNAME=alice BOSUN_PASSWORD="$PW" "$BOSUN" -q copy "$REG/auth/bb:1" "oci:$W/$l-env:1"
	cat >"$W/cfg/config.json" <<JSON
{"auths":{"$REG":{"auth":"$(auth_b64 alice "$PW")"}}}
JSON
	expect_exit 0 "$l: config.json auths" env DOCKER_CONFIG="$W/cfg" "$BOSUN" -q inspect "$REG/auth/bb:1"
	cat >"$W/cfg/config.json" <<JSON
{"auths":{"https://$REG/v1/":{"username":"alice","password":"$PW"}}}
JSON
	expect_exit 0 "$l: config.json key as a full URL (Jenkins)" env DOCKER_CONFIG="$W/cfg" "$BOSUN" -q inspect "$REG/auth/bb:1"
	cat >"$W/cfg/config.json" <<JSON
{"credHelpers":{"$REG":"bosuntest"},"auths":{"$REG":{"auth":"$(auth_b64 alice wrong)"}}}
JSON
	expect_exit 0 "$l: credential helper wins over auths" env DOCKER_CONFIG="$W/cfg" PATH="$W/bin:$PATH" "$BOSUN" -q inspect "$REG/auth/bb:1"
	cat >"$W/cfg/config.json" <<JSON
{"credsStore":"bosuntest"}
JSON
	expect_exit 0 "$l: credsStore" env DOCKER_CONFIG="$W/cfg" PATH="$W/bin:$PATH" "$BOSUN" -q inspect "$REG/auth/bb:1"
	cat >"$W/authfile.json" <<JSON
{"auths":{"$REG":{"auth":"$(auth_b64 alice "$PW")"}}}
JSON
	expect_exit 0 "$l: REGISTRY_AUTH_FILE" env REGISTRY_AUTH_FILE="$W/authfile.json" "$BOSUN" -q inspect "$REG/auth/bb:1"
	expect_exit 4 "$l: helper with wrong secret fails" env DOCKER_CONFIG="$W/cfg" PATH="$W/bin:$PATH" HELPER_SECRET=nope "$BOSUN" -q inspect --retries 1 "$REG/auth/bb:1"
}

mkdir -p "$W/cfg" "$W/bin"
# A docker-credential helper speaking the real protocol: host on stdin,
# JSON on stdout.
cat >"$W/bin/docker-credential-bosuntest" <<EOF
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r host
case "\$host" in *127.0.0.1*) ;; *) echo "credentials not found in native keychain"; exit 1 ;; esac
printf '{"ServerURL":"%s","Username":"alice","Secret":"%s"}\n' "\$host" "\${HELPER_SECRET:-$PW}"
EOF
chmod +x "$W/bin/docker-credential-bosuntest"

registry_start_basic alice "$PW"
run_suite basic

registry_start_token alice "$PW"
run_suite token
# Identity token (refresh token) flow, as Azure Container Registry uses.
cat >"$W/cfg/config.json" <<JSON
{"auths":{"$REG":{"auth":"$(auth_b64 00000000-0000-0000-0000-000000000000 "")","identitytoken":"$TOKEN_REFRESH"}}}
JSON
expect_exit 0 "token: identity token from config.json" env DOCKER_CONFIG="$W/cfg" "$BOSUN" -q copy "oci:$W/bb:1.0" "$REG/auth/idtok:1"
expect_exit 0 "token: ACR user with a refresh token in --creds" b -q inspect --creds "00000000-0000-0000-0000-000000000000:$TOKEN_REFRESH" "$REG/auth/idtok:1"
expect_exit 4 "token: wrong refresh token" b -q inspect --retries 1 --creds "00000000-0000-0000-0000-000000000000:bad-$TOKEN_REFRESH" "$REG/auth/idtok:1"
grep -q 'refresh_token' "$TOKEN_LOG" && ok "token: refresh-token grant was used" || fail "token: refresh-token grant was used"
SECRETS=("$PW" "$TOKEN_REFRESH")

# access_token instead of token (Azure Container Registry's answer).
registry_start_token alice "$PW" --field access_token
expect_exit 0 "access_token answer" b -q copy --creds "alice:$PW" "oci:$W/bb:1.0" "$REG/auth/acr:1"
SECRETS+=("$TOKEN_REFRESH")

# TLS with a test CA.
registry_start_tls
port=${REG#*:}
expect_exit 4 "TLS: an unknown CA is refused" b -q inspect --retries 1 "localhost:$port/x/y:1"
expect_out "TLS: says why" 'certificate|SSL|TLS'
expect_exit 0 "TLS: --cacert" b -q copy --cacert "$TEST_CA" "oci:$W/bb:1.0" "localhost:$port/tls/bb:1"
expect_exit 0 "TLS: SSL_CERT_FILE" env SSL_CERT_FILE="$TEST_CA" "$BOSUN" -q inspect "localhost:$port/tls/bb:1"
expect_exit 0 "TLS: --insecure-registry skips verification" b -q inspect --insecure-registry "localhost:$port" "localhost:$port/tls/bb:1"

# Secrets never reach bosun's output, even at trace level.
expect_exit 4 "trace output of a failed login" b -v -v -v copy --retries 1 --creds "alice:$PW" "oci:$W/bb:1.0" "127.0.0.1:1/x:1"
registry_start_basic alice "$PW"
expect_exit 0 "trace output of a good login" b -v -v -v copy --creds "alice:$PW" "oci:$W/bb:1.0" "$REG/auth/trace:1"
leak=0
for s in "${SECRETS[@]}" "$(auth_b64 alice "$PW")"; do
	if grep -qF -- "$s" "$ALL"; then leak=1; fail "secret leaked into output" "$(grep -nF -- "$s" "$ALL" | head -3)"; fi
done
[ "$leak" -eq 0 ] && ok "no password, token or auth string in any output ($(wc -l <"$ALL") lines checked)"
finish
