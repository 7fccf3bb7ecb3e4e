# shellcheck shell=bash
# tests/lib/registry.sh — start Debian's docker-registry (and friends) on
# 127.0.0.1 for end-to-end tests.  Source common.sh first (done here if not).
#
# Every registry_start_* call starts a fresh registry with its own storage,
# registers its cleanup with at_exit, waits for /v2/ to answer, and exports:
#   REG          host:port (127.0.0.1:PORT)
#   REG_URL      http://REG or https://REG
#   REG_DIR      its directory (config.yml, data/, registry.log, ...)
#   REG_LOG      the registry's log file
#   REG_PID      its process id
#   REG_USER / REG_PASS   credentials (basic/token set-ups; empty otherwise)
# Set REG_TLS=1 before any registry_start_* to serve it over TLS as well
# (registry_start_tls is registry_start_open with REG_TLS=1).  With TLS:
#   TEST_CA       the test CA certificate (PEM)
#   REG_CERT_DIR  a directory holding ca.crt, for skopeo --*-cert-dir
# The token set-up also exports:
#   TOKEN_URL      the realm, http://127.0.0.1:PORT/token
#   TOKEN_SERVICE  the service name the registry announces
#   TOKEN_ISSUER   the issuer it trusts
#   TOKEN_LOG      the token server's request log (no secrets in it)
#   TOKEN_PID      its process id
#   TOKEN_REFRESH  the one valid refresh (identity) token
#   TOKEN_REFRESH_FILE  a file with that value
# faultproxy_start exports PROXY (host:port), PROXY_LOG and PROXY_PID.
#
# A later call overwrites these variables; copy them first if a test needs
# two registries at once.  Both keep running until exit.

if [ -n "${_BOSUN_REGISTRY_SH:-}" ]; then return 0; fi
_BOSUN_REGISTRY_SH=1

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Not REGISTRY_*: docker-registry reads those as configuration overrides.
DOCKER_REGISTRY_BIN="${DOCKER_REGISTRY_BIN:-/usr/bin/docker-registry}"

# _reg_die MSG [LOGFILE...]: fail loudly, with the tail of the logs, and
# stop the calling test: nothing after it could mean anything.
_reg_die() {
    local msg="$1" f; shift
    echo "registry.sh: $msg" >&2
    for f in "$@"; do
        [ -f "$f" ] || continue
        echo "--- tail of $f" >&2
        tail -n 30 "$f" >&2
    done
    echo "Bail out! $msg"
    exit 1
}

# _reg_test_ca DIR: make (once per test script) a CA and a server
# certificate for 127.0.0.1 and localhost, in DIR.
_reg_test_ca() {
    local d="$1"
    [ -f "$d/server.crt" ] && return 0
    mkdir -p "$d"
    (
        set -e
        cd "$d"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout ca.key -out ca.crt -days 3650 -subj "/CN=bosun test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout server.key -out server.csr -subj "/CN=localhost"
        printf '%s\n' "basicConstraints=CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" \
            "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -out server.crt -days 3650 -extfile server.ext
        mkdir -p certdir
        cp ca.crt certdir/ca.crt
    ) >"$d/openssl.log" 2>&1 || _reg_die "cannot make the test CA" "$d/openssl.log"
}

# _reg_launch DIR AUTH_YAML: write config.yml, start the registry, wait.
_reg_launch() {
    local dir="$1" auth="$2" port scheme=http tls=""
    port="$(free_port)"
    if [ -n "${REG_TLS:-}" ]; then
        _reg_test_ca "$BT_ROOT/ca"
        TEST_CA="$BT_ROOT/ca/ca.crt"
        REG_CERT_DIR="$BT_ROOT/ca/certdir"
        export TEST_CA REG_CERT_DIR
        scheme=https
        tls="  tls:
    certificate: $BT_ROOT/ca/server.crt
    key: $BT_ROOT/ca/server.key"
    fi
    mkdir -p "$dir/data"
    cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: bosun-test-secret
$tls
$auth
EOF
    # REGISTRY_* variables from the environment would override the file.
    (
        for v in $(compgen -e REGISTRY_); do unset "$v"; done
        exec "$DOCKER_REGISTRY_BIN" serve "$dir/config.yml"
    ) >"$dir/registry.log" 2>&1 &
    REG_PID=$!
    at_exit "kill_wait $REG_PID"
    REG="127.0.0.1:$port"
    REG_URL="$scheme://$REG"
    REG_DIR="$dir"
    REG_LOG="$dir/registry.log"
    export REG REG_URL REG_DIR REG_LOG REG_PID

    local i code
    for ((i = 0; i < 100; i++)); do
        kill -0 "$REG_PID" 2>/dev/null || _reg_die "docker-registry exited at start-up" "$REG_LOG"
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
            ${TEST_CA:+--cacert "$TEST_CA"} "$REG_URL/v2/" 2>/dev/null)" || true
        case "$code" in 200 | 401) return 0 ;; esac
        sleep 0.1
    done
    _reg_die "docker-registry did not answer $REG_URL/v2/ within 10 s" "$REG_LOG"
}

# registry_start_open: no authentication.
registry_start_open() {
    REG_USER="" REG_PASS=""
    export REG_USER REG_PASS
    _reg_launch "$(tmpdir_new registry)" ""
}

# registry_start_basic USER PASS: htpasswd (bcrypt) Basic authentication.
registry_start_basic() {
    local user="$1" pass="$2" dir
    dir="$(tmpdir_new registry)"
    htpasswd -Bbn "$user" "$pass" >"$dir/htpasswd" 2>"$dir/htpasswd.log" ||
        _reg_die "htpasswd failed" "$dir/htpasswd.log"
    REG_USER="$user" REG_PASS="$pass"
    export REG_USER REG_PASS
    _reg_launch "$dir" "auth:
  htpasswd:
    realm: bosun-test-registry
    path: $dir/htpasswd"
}

# registry_start_token USER PASS [TOKENSERVER_ARGS...]: Bearer token
# authentication backed by tokenserver.py.  Extra arguments go to the token
# server, e.g. `--field access_token`, `--alg RS256`, `--allow pull`,
# `--no-anonymous`, `--user OTHER:PW`.
registry_start_token() {
    local user="$1" pass="$2" dir tport alg=ES256 a
    shift 2
    for a in "$@"; do case "$a" in RS256 | --alg=RS256) alg=RS256 ;; esac; done
    dir="$(tmpdir_new registry)"
    mkdir -p "$dir/token"
    (
        set -e
        cd "$dir/token"
        if [ "$alg" = RS256 ]; then
            openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sign.key
        else
            openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out sign.key
        fi
        openssl req -x509 -new -key sign.key -out sign.crt -days 3650 \
            -subj "/CN=bosun test token signer"
    ) >"$dir/token/openssl.log" 2>&1 || _reg_die "cannot make the token signing key" "$dir/token/openssl.log"

    # Secrets go in files, not on the command line (ps would show them).
    TOKEN_REFRESH="bosun-refresh-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    TOKEN_REFRESH_FILE="$dir/token/refresh-token"
    printf '%s\n' "$TOKEN_REFRESH" >"$TOKEN_REFRESH_FILE"
    printf '%s:%s\n' "$user" "$pass" >"$dir/token/users"
    chmod 600 "$dir/token/users" "$TOKEN_REFRESH_FILE"

    tport="$(free_port)"
    TOKEN_URL="http://127.0.0.1:$tport/token"
    TOKEN_SERVICE="bosun-test-registry"
    TOKEN_ISSUER="bosun-test-issuer"
    TOKEN_LOG="$dir/token/requests.log"
    "$PYTHON" "$TESTLIB/tokenserver.py" --listen "$tport" \
        --key "$dir/token/sign.key" --cert "$dir/token/sign.crt" --alg "$alg" \
        --issuer "$TOKEN_ISSUER" --service "$TOKEN_SERVICE" \
        --users-file "$dir/token/users" --refresh-token-file "$TOKEN_REFRESH_FILE" \
        --log "$TOKEN_LOG" "$@" >"$dir/token/stderr.log" 2>&1 &
    TOKEN_PID=$!
    at_exit "kill_wait $TOKEN_PID"
    wait_port "$tport" 10 || _reg_die "token server did not start" "$dir/token/stderr.log" "$TOKEN_LOG"
    export TOKEN_URL TOKEN_SERVICE TOKEN_ISSUER TOKEN_LOG TOKEN_PID TOKEN_REFRESH TOKEN_REFRESH_FILE

    REG_USER="$user" REG_PASS="$pass"
    export REG_USER REG_PASS
    _reg_launch "$dir" "auth:
  token:
    realm: $TOKEN_URL
    service: $TOKEN_SERVICE
    issuer: $TOKEN_ISSUER
    rootcertbundle: $dir/token/sign.crt"
}

# registry_start_tls: an open registry over HTTPS with the test CA.
registry_start_tls() {
    local REG_TLS=1
    registry_start_open
}

# registry_stop: stop the registry (and token server) started last.
registry_stop() {
    kill_wait "${REG_PID:-}"
    if [ -n "${TOKEN_PID:-}" ]; then kill_wait "$TOKEN_PID"; fi
    REG_PID="" TOKEN_PID=""
}

# faultproxy_start [FAULTPROXY_ARGS...]: a fault proxy in front of $REG
# (unless --upstream is given).  See faultproxy.py for the options, e.g.
#   faultproxy_start --mode random --rate 0.3 --seed 7
#   faultproxy_start --mode reset --only-path '/blobs/sha256:' --max-faults 1
# Count injected faults with: grep -c '^FAULT' "$PROXY_LOG"
faultproxy_start() {
    local port dir a up=""
    for a in "$@"; do [ "$a" = --upstream ] && up=1; done
    port="$(free_port)"
    dir="$(tmpdir_new faultproxy)"
    PROXY_LOG="$dir/faults.log"
    local extra=()
    [ -n "$up" ] || extra+=(--upstream "$REG")
    case "${REG_URL:-}" in https://*) [ -n "$up" ] || extra+=(--upstream-tls --upstream-ca "$TEST_CA") ;; esac
    "$PYTHON" "$TESTLIB/faultproxy.py" --listen "$port" "${extra[@]}" --log "$PROXY_LOG" "$@" \
        >"$dir/stderr.log" 2>&1 &
    PROXY_PID=$!
    at_exit "kill_wait $PROXY_PID"
    wait_port "$port" 10 || _reg_die "fault proxy did not start" "$dir/stderr.log"
    PROXY="127.0.0.1:$port"
    export PROXY PROXY_LOG PROXY_PID
}

# proxy_faults: number of faults the last proxy injected so far.
proxy_faults() {
    grep -c '^FAULT' "$PROXY_LOG" 2>/dev/null || true
}
