#!/usr/bin/env bash
# bosun build end to end: images built by bosun are pushed to a local
# registry, pulled by skopeo and run by buildah (vfs storage, chroot
# isolation); files, owners, modes, env, user, entrypoint, whiteouts,
# opaque directories, secrets, .dockerignore, reproducible digests and the
# layer cache are checked against what the Dockerfile says.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$TESTLIB/registry.sh"
. "$TESTLIB/images.sh"

if ! command -v buildah >/dev/null; then
    skip "buildah runs bosun's images" "buildah not installed (apt-get install buildah)"
    finish
fi

T="$(tmpdir_new build)"
registry_start_open
make_busybox_oci "$T/base" latest
BASE_LAYER="${IMG_LAYER_DIGESTS%% *}"
check "push the busybox base to the registry" skopeo copy --dest-tls-verify=false oci:"$T/base":latest docker://"$REG"/base:1

BA=(--root "$T/bstore" --runroot "$T/brun" --storage-driver vfs)
bud_run() { # IMAGE CMD: run CMD in a fresh buildah container of IMAGE
    # The output goes to a file in the container, read through `buildah
    # mount`: under load, `buildah run --isolation chroot` now and then
    # exits 0 with its stdout lost, which read as a missing file.
    local img="$1"; shift
    local c mnt rc
    c="$(buildah "${BA[@]}" from --quiet --tls-verify=false "$img")" || return 1
    mnt="$(buildah "${BA[@]}" mount "$c")" || { buildah "${BA[@]}" rm "$c" >/dev/null 2>&1; return 1; }
    : >"$mnt/.bud-out" && chmod 666 "$mnt/.bud-out"
    buildah "${BA[@]}" run --isolation chroot "$c" -- sh -c "( $* ) >>/.bud-out 2>&1"
    rc=$?
    cat "$mnt/.bud-out"
    buildah "${BA[@]}" umount "$c" >/dev/null 2>&1
    buildah "${BA[@]}" rm "$c" >/dev/null 2>&1
    return $rc
}

# ---------------------------------------------------------------- context
C="$T/ctx"
mkdir -p "$C/data" "$C/secret-dir" "$C/logs"
echo one >"$C/a.txt"
echo two >"$C/b.txt"
echo payload >"$C/data/f"
echo noise >"$C/logs/x.log"
echo kept >"$C/logs/keep.log"
echo private >"$C/secret-dir/s"
printf '# comments and exceptions as Docker reads them\n**/*.log\n!logs/keep.log\nsecret-dir\n' >"$C/.dockerignore"
SECRET="TOPSECRET-$RANDOM-$RANDOM-bosun"
printf '%s' "$SECRET" >"$T/token"
cat >"$C/Dockerfile" <<'DF'
# syntax=docker/dockerfile:1
ARG BASE
FROM ${BASE} AS builder
ARG MSG=default
RUN mkdir -p /out && echo "built:$MSG" > /out/msg && \
    echo "target:${TARGETARCH:-unset}" > /out/arch
RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /out/toklen && \
    cat /run/secrets/tok > /tmp/not-kept && rm /tmp/not-kept

FROM ${BASE} AS unused
RUN exit 1

FROM ${BASE}
ARG TARGETARCH
ENV APPDIR=/srv/app \
    MODE="two words"
WORKDIR $APPDIR
COPY --from=builder /out/ ./
COPY --chown=65534:65534 --chmod=0640 data/f data/
COPY *.txt ./
COPY . /ctx/
RUN mkdir /d && touch /d/old1 /d/old2 && echo "$TARGETARCH" > /arch
RUN rm /etc/group && rm -rf /d && mkdir /d && touch /d/new && \
    seq 1 1500000 > /big && md5sum /big > /big.md5
COPY <<EOF /srv/app/heredoc.txt
arch=${TARGETARCH}
EOF
LABEL org.example.team="build team"
EXPOSE 8080
USER nobody
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat msg"]
DF

expect_exit 0 "build multi-stage image and push it" \
    "$BOSUN" build --build-arg BASE="$REG/base:1" --build-arg MSG=hello --secret id=tok,src="$T/token" \
    --label org.example.ci=yes -t "$REG/app:1" --push --digest-file "$T/digest" -v "$C"
expect_out "unused stage is skipped" 'stage 1 unused: not needed'
# The base's layer is already in $REG/base: mounted into app, not uploaded again.
expect_out "the base layer is mounted from the base repository" "blob ${BASE_LAYER:0:19}: mounted"
expect_no_out "the base layer is not uploaded" "upload blob ${BASE_LAYER:0:19}: done"
DIGEST="$(cat "$T/digest" 2>/dev/null || true)"
check "digest file holds a digest" grep -qE '^sha256:[0-9a-f]{64}$' "$T/digest"
expect_exit 0 "skopeo reads the pushed image" skopeo inspect --tls-verify=false docker://"$REG/app:1"
expect_out "skopeo sees bosun's digest" "\"Digest\": \"$DIGEST\""
check "skopeo copies it out" skopeo copy --src-tls-verify=false docker://"$REG/app:1" oci:"$T/pulled":1

# Config: user, entrypoint, cmd, env, labels, exposed port, base annotations.
expect_exit 0 "config readable" skopeo inspect --config --tls-verify=false docker://"$REG/app:1"
CFG="$OUT"
pycheck() { "$PYTHON" -c "import json,sys; c=json.loads(sys.argv[1]); $1" "$CFG"; }
check "config: user nobody" pycheck 'assert c["config"]["User"]=="nobody"'
check "config: entrypoint and cmd" pycheck 'assert c["config"]["Entrypoint"]==["/bin/sh","-c"] and c["config"]["Cmd"]==["cat msg"]'
check "config: ENV with quotes" pycheck 'assert "MODE=two words" in c["config"]["Env"] and "APPDIR=/srv/app" in c["config"]["Env"]'
check "config: labels from LABEL and --label" pycheck 'l=c["config"]["Labels"]; assert l["org.example.team"]=="build team" and l["org.example.ci"]=="yes"'
check "config: base name label" pycheck 'assert c["config"]["Labels"]["org.opencontainers.image.base.name"].endswith("/base:1")'
check "config: exposed port" pycheck 'assert "8080/tcp" in c["config"]["ExposedPorts"]'
check "config: history matches layers" pycheck 'h=[x for x in c["history"] if not x.get("empty_layer")]; assert len(h)==len(c["rootfs"]["diff_ids"]), (len(h), len(c["rootfs"]["diff_ids"]))'
expect_exit 0 "manifest readable" skopeo inspect --raw --tls-verify=false docker://"$REG/app:1"
MAN="$OUT"
check "manifest: base digest annotation" "$PYTHON" -c 'import json,sys; m=json.loads(sys.argv[1]); a=m["annotations"]; assert a["org.opencontainers.image.base.digest"].startswith("sha256:") and "org.opencontainers.image.created" in a' "$MAN"
check "base layer passes through byte-identical" "$PYTHON" -c 'import json,sys; m=json.loads(sys.argv[1]); assert m["layers"][0]["digest"]==sys.argv[2], m["layers"][0]["digest"]' "$MAN" "$BASE_LAYER"

# Run it with buildah.
IMG="docker://$REG/app:1"
expect_exit 0 "buildah runs the image" bud_run "$IMG" 'cat /srv/app/msg; id -u; pwd; echo "$APPDIR|$MODE"; stat -c "%u:%g %a" /srv/app/data/f; cat /srv/app/a.txt /srv/app/b.txt /srv/app/heredoc.txt /srv/app/toklen'
expect_out "COPY --from a stage, ARG via --build-arg" '^built:hello$'
expect_out "USER nobody is the user" '^65534$'
expect_out "WORKDIR from ENV" '^/srv/app$'
expect_out "environment" '^/srv/app\|two words$'
expect_out "--chown and --chmod" '^65534:65534 640$'
expect_out "glob COPY" '^two$'
expect_out "heredoc COPY with TARGETARCH" '^arch=(amd64|arm64)'
expect_out "secret was readable during RUN" "^${#SECRET}\$"
expect_exit 0 "deleted and replaced files" bud_run "$IMG" 'test ! -e /etc/group && echo group-gone; ls /d; test -s /arch && echo arch-ok; test -e /etc/passwd && echo passwd-ok'
expect_out "file deleted by RUN is gone" '^group-gone$'
expect_out "opaque dir hides lower children" '^new$'
expect_no_out "old children of the opaque dir are gone" 'old1|old2'
expect_out "ARG TARGETARCH in RUN" '^arch-ok$'
expect_exit 0 "a layer compressed in parallel gzip members reads back intact" bud_run "$IMG" 'md5sum -c /big.md5'
expect_exit 0 ".dockerignore applied" bud_run "$IMG" 'ls -R /ctx'
expect_out ".dockerignore keeps the exception" 'keep.log'
expect_no_out ".dockerignore drops ignored files and dirs" 'x\.log|secret-dir|^s$'

# Layers: whiteout and opaque markers; the secret in none of them.
L="$T/pulled/blobs/sha256"
WH=0; OPQ=0; LEAK=0
for b in "$L"/*; do
    if gzip -t "$b" 2>/dev/null; then
        list="$(tar tzf "$b")"
        grep -q '^etc/\.wh\.group$' <<<"$list" && WH=1
        grep -q '^d/\.wh\.\.wh\.\.opq$' <<<"$list" && OPQ=1
        grep -qa -- "$SECRET" < <(zcat "$b") && LEAK=1
    fi
    grep -qa -- "$SECRET" "$b" && LEAK=1
done
check "a layer holds the whiteout etc/.wh.group" test "$WH" = 1
check "a layer marks d/ opaque" test "$OPQ" = 1
check "the secret is in no blob" test "$LEAK" = 0

# Reproducible: same SOURCE_DATE_EPOCH, same digest.
d1="$(SOURCE_DATE_EPOCH=1700000000 "$BOSUN" -q build --build-arg BASE="oci:$T/base:latest" --secret id=tok,src="$T/token" --output oci:"$T/r1" "$C")" || true
d2="$(SOURCE_DATE_EPOCH=1700000000 "$BOSUN" -q build --build-arg BASE="oci:$T/base:latest" --secret id=tok,src="$T/token" --output oci:"$T/r2" "$C")" || true
check "two builds with SOURCE_DATE_EPOCH give one digest" test -n "$d1" -a "$d1" = "$d2"
check "created comes from SOURCE_DATE_EPOCH" sh -c "skopeo inspect --config oci:'$T/r1' | grep -q '\"created\": \"2023-11-14T22:13:20Z\"'"

# zstd layers and docker-archive output.
expect_exit 0 "zstd layers into a docker archive" "$BOSUN" build --compression zstd --build-arg BASE="oci:$T/base:latest" \
    --secret id=tok,src="$T/token" --target builder --output docker-archive:"$T/app.tar" -t app:z "$C"
check "skopeo reads the docker archive" skopeo inspect docker-archive:"$T/app.tar"

# Cache: the second build hits every step (the times are printed, not asserted).
CD="$T/cache"
t0=$(date +%s.%N)
expect_exit 0 "cold build with --cache-dir" "$BOSUN" build --cache-dir "$CD" --build-arg BASE="oci:$T/base:latest" \
    --secret id=tok,src="$T/token" --output oci:"$T/c1" "$C"
t1=$(date +%s.%N)
expect_out "cold build reports misses" 'cache miss'
expect_exit 0 "warm build with --cache-dir" "$BOSUN" build --cache-dir "$CD" --build-arg BASE="oci:$T/base:latest" \
    --secret id=tok,src="$T/token" --output oci:"$T/c2" "$C"
t2=$(date +%s.%N)
WARM="$OUT"
OUT="$WARM"; expect_no_out "warm build has no miss" 'cache miss'
steps=$(grep -c '^step ' <<<"$WARM" || true)
hits=$(grep -c '(cache hit)' <<<"$WARM" || true)
check "every step of the warm build is a hit ($hits of $steps)" test "$steps" -gt 10 -a "$hits" = "$steps"
diag "cold $(echo "$t1 - $t0" | bc) s, warm $(echo "$t2 - $t1" | bc) s"
check "push the cached build" skopeo copy --dest-tls-verify=false oci:"$T/c2":build docker://"$REG"/app:cached
expect_exit 0 "warm build gives a runnable image" bud_run "docker://$REG/app:cached" 'cat /srv/app/msg'
expect_out "cached image has the content" '^built:default$'

# A changed source file is a miss for its COPY and what follows.
echo changed >"$C/a.txt"
expect_exit 0 "build after changing a.txt" "$BOSUN" build --cache-dir "$CD" --build-arg BASE="oci:$T/base:latest" \
    --secret id=tok,src="$T/token" --output oci:"$T/c3" "$C"
expect_out "COPY *.txt misses after the change" 'COPY \*\.txt \./ \(cache miss\)'
expect_out "steps before it still hit" 'COPY --from=builder /out/ \./ \(cache hit\)'
check "push the rebuilt image" skopeo copy --dest-tls-verify=false oci:"$T/c3":build docker://"$REG"/app:changed
expect_exit 0 "rebuilt image has the new content" bud_run "docker://$REG/app:changed" 'cat /srv/app/a.txt'
expect_out "new content of a.txt" '^changed$'

# --cache-repo: a second agent with an empty local cache reuses every step.
expect_exit 0 "build populating --cache-repo" "$BOSUN" build --cache-repo "$REG/buildcache" \
    --build-arg BASE="oci:$T/base:latest" --secret id=tok,src="$T/token" --output oci:"$T/cr1" "$C"
expect_out "first agent misses" 'cache miss'
expect_exit 0 "cache tags are in the registry" skopeo list-tags --tls-verify=false docker://"$REG/buildcache"
expect_out "cache tags are named by step key" 'bosun-cache-[0-9a-f]{64}'
expect_exit 0 "second agent, no local cache" "$BOSUN" build --cache-repo "$REG/buildcache" \
    --build-arg BASE="oci:$T/base:latest" --secret id=tok,src="$T/token" --output oci:"$T/cr2" "$C"
REPO2="$OUT"
expect_no_out "second agent has no miss" 'cache miss'
check "second agent hit every step" test "$(grep -c '(cache hit)' <<<"$REPO2")" = "$(grep -c '^step ' <<<"$REPO2")"
check "same layers from the repo cache" test "$(skopeo inspect oci:"$T/cr1":build | grep -A20 Layers | grep sha256 | sort | md5sum)" = \
    "$(skopeo inspect oci:"$T/cr2":build | grep -A20 Layers | grep sha256 | sort | md5sum)"

# --push uploads each layer while the build goes on: a RUN after a COPY
# finds the COPY's layer in the registry already (its digest is known from
# an earlier reproducible build of the COPY alone).
BG="$T/bgctx"
mkdir -p "$BG"
head -c 2000000 /dev/urandom >"$BG/blob.bin"
printf 'FROM oci:%s/base:latest\nCOPY blob.bin /blob.bin\n' "$T" >"$BG/Dockerfile.1"
expect_exit 0 "COPY alone, to learn its layer" env SOURCE_DATE_EPOCH=1700000000 \
    "$BOSUN" build -f "$BG/Dockerfile.1" --output oci:"$T/bg1" "$BG"
BGL="$(skopeo inspect oci:"$T/bg1" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["Layers"][-1])')"
{
    cat "$BG/Dockerfile.1"
    echo "RUN i=0; while [ \$i -lt 150 ]; do wget -q --spider http://$REG/v2/bg/app/blobs/$BGL && echo layer-already-pushed && exit 0; sleep 0.1; i=\$((i+1)); done; exit 1"
} >"$BG/Dockerfile.2"
expect_exit 0 "COPY then RUN, pushed" env SOURCE_DATE_EPOCH=1700000000 \
    "$BOSUN" build -f "$BG/Dockerfile.2" -t "$REG/bg/app:1" --push "$BG"
expect_out "the COPY layer was in the registry while RUN ran" '^layer-already-pushed$'
expect_exit 0 "the pushed image is whole" skopeo inspect --tls-verify=false docker://"$REG/bg/app:1"
expect_out "with the COPY layer" "$BGL"

# A layer also goes up while it is written: through a logging proxy it
# arrives in PATCH chunks (a finished blob would be one PUT). When every
# PATCH fails, the push after the build still uploads it whole.
head -c 20000000 /dev/urandom >"$BG/big.bin"
printf 'FROM oci:%s/base:latest\nCOPY big.bin /big.bin\n' "$T" >"$BG/Dockerfile.3"
faultproxy_start -v --mode 500 --rate 0
expect_exit 0 "a 20 MB COPY pushed through a proxy" "$BOSUN" build -f "$BG/Dockerfile.3" -t "$PROXY/bg/stream:1" --push "$BG"
check "the layer went up in chunks while it was written" \
    test "$(grep -c '^PASS PATCH /v2/bg/stream/blobs/uploads/' "$PROXY_LOG")" -ge 2
expect_exit 0 "skopeo copies the streamed image (digests verified)" skopeo copy -q --src-tls-verify=false \
    docker://"$REG/bg/stream:1" oci:"$T/bg-stream"
faultproxy_start --mode 500 --only-method PATCH
expect_exit 0 "every PATCH refused: the build still pushes" env BOSUN_TEST_BACKOFF_SCALE=0.01 \
    "$BOSUN" build -f "$BG/Dockerfile.3" -t "$PROXY/bg/fallback:1" --push "$BG"
check "the stream was tried" test "$(proxy_faults)" -ge 1
expect_exit 0 "skopeo copies the image pushed after the failed stream" skopeo copy -q --src-tls-verify=false \
    docker://"$REG/bg/fallback:1" oci:"$T/bg-fallback"

finish
