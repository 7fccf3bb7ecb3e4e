#!/usr/bin/env bash
# The rest of the Dockerfile instruction set: ADD (local tar, URL with
# --checksum), SHELL, heredoc and exec-form RUN, --network=none, cache
# mounts, HEALTHCHECK, STOPSIGNAL, VOLUME, ONBUILD (recorded, then
# triggered in a child build), escape directive; checked in the config and
# by running the image with buildah.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$TESTLIB/registry.sh"
. "$TESTLIB/images.sh"

T="$(tmpdir_new buildins)"
registry_start_open
make_busybox_oci "$T/base" latest
C="$T/ctx"
mkdir -p "$C/tree/sub" "$T/www"
echo in-tar >"$C/tree/sub/t.txt"
tar -C "$C/tree" -czf "$C/bundle.tgz" .
rm -rf "$C/tree"
echo "downloaded content" >"$T/www/remote.txt"
SUM="sha256:$(sha256sum "$T/www/remote.txt" | cut -d' ' -f1)"
PORT="$(free_port)"
(cd "$T/www" && exec "$PYTHON" -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
HTTP_PID=$!
at_exit "kill_wait $HTTP_PID"
wait_port "$PORT"

cat >"$C/Dockerfile" <<DF
# escape=\`
FROM oci:$T/base:latest
ADD bundle.tgz /opt/bundle/
ADD --checksum=$SUM http://127.0.0.1:$PORT/remote.txt /opt/remote.txt
SHELL ["/bin/sh", "-e", "-c"]
RUN <<EOS
echo line1 > /opt/heredoc
echo line2 >> /opt/heredoc
EOS
RUN ["/bin/sh", "-c", "echo exec-form > /opt/exec"]
RUN --network=none ip link 2>/dev/null | grep -c ': ' > /opt/ifaces || cat /proc/net/dev | tail -n +3 | wc -l > /opt/ifaces
RUN --mount=type=cache,target=/var/cache/x echo cached > /var/cache/x/f && test ! -e /opt/none
RUN echo a \`
    b > /opt/escaped
HEALTHCHECK --interval=5s --retries=2 CMD ["/bin/true"]
STOPSIGNAL SIGTERM
VOLUME ["/data"]
DF
expect_exit 0 "build with the wider instruction set" "$BOSUN" build --cache-dir "$T/cache" -t "$REG/ins:1" --push "$C"
expect_exit 0 "config readable" skopeo inspect --raw --config --tls-verify=false docker://"$REG/ins:1"
CFG="$OUT"
pycheck() { "$PYTHON" -c "import json,sys; c=json.loads(sys.argv[1])['config']; $1" "$CFG"; }
check "HEALTHCHECK" pycheck 'h=c["Healthcheck"]; assert h["Test"]==["CMD","/bin/true"] and h["Interval"]==5000000000 and h["Retries"]==2, h'
check "STOPSIGNAL" pycheck 'assert c["StopSignal"]=="SIGTERM"'
check "VOLUME" pycheck 'assert "/data" in c["Volumes"]'
check "SHELL recorded" pycheck 'assert c["Shell"]==["/bin/sh","-e","-c"]'

BA=(--root "$T/bstore" --runroot "$T/brun" --storage-driver vfs)
c="$(buildah "${BA[@]}" from --quiet --tls-verify=false "docker://$REG/ins:1")"
expect_exit 0 "buildah runs it" buildah "${BA[@]}" run --isolation chroot "$c" -- sh -c \
    'cat /opt/bundle/sub/t.txt /opt/remote.txt /opt/heredoc /opt/exec /opt/escaped; echo ifaces=$(cat /opt/ifaces); ls /var/cache/x 2>&1 | head -1; stat -c %a /opt/remote.txt'
expect_out "ADD extracts a local tar" '^in-tar$'
expect_out "ADD downloads a URL with a checksum" '^downloaded content$'
expect_out "heredoc RUN" '^line2$'
expect_out "exec-form RUN" '^exec-form$'
expect_out "escape directive joins lines" '^a b$'
expect_out "--network=none has only loopback" '^ifaces=1$'
expect_no_out "a cache mount does not reach the image" '^f$'
expect_out "downloaded files get mode 600" '^600$'
buildah "${BA[@]}" rm "$c" >/dev/null 2>&1 || true

printf '%s\n' "FROM oci:$T/base:latest" "ADD --checksum=sha256:$(printf 0%.0s {1..64}) http://127.0.0.1:$PORT/remote.txt /x" >"$C/Dockerfile"
expect_exit 3 "ADD with a wrong checksum exits 3" "$BOSUN" build "$C"
expect_out "checksum error is located" 'Dockerfile:2:1: add: .*digest mismatch'

# ONBUILD triggers run in a build FROM that image.
C1="$T/parent"
mkdir -p "$C1"
printf '%s\n' "FROM oci:$T/base:latest" 'ONBUILD RUN echo triggered > /onbuild' >"$C1/Dockerfile"
expect_exit 0 "parent with ONBUILD" "$BOSUN" build -t "$REG/parent:1" --push "$C1"
expect_exit 0 "parent config" skopeo inspect --raw --config --tls-verify=false docker://"$REG/parent:1"
CFG="$OUT"
check "ONBUILD recorded" pycheck 'assert c["OnBuild"]==["RUN echo triggered > /onbuild"]'
C2="$T/child"
mkdir -p "$C2"
printf '%s\n' "FROM $REG/parent:1" 'RUN cat /onbuild' >"$C2/Dockerfile"
expect_exit 0 "child build" "$BOSUN" build --output oci:"$T/child-out" "$C2"
expect_out "ONBUILD trigger ran" 'ONBUILD trigger: RUN echo triggered'
expect_out "trigger output visible to the next step" '^triggered$'
check "triggers are not inherited" sh -c "! skopeo inspect --config oci:'$T/child-out' | grep -q OnBuild"

# COPY streams its entries into the layer writer (nothing copied to disk
# first); ADD of the same local sources still builds the layer in a
# directory. Both must give the same layer bytes: one digest per step.
SC="$T/samectx"
mkdir -p "$SC/tree/a/b" "$SC/tree/empty" "$SC/tree/sub"
echo one >"$SC/tree/a/b/f"
echo two >"$SC/tree/a-c"
head -c 3000000 /dev/urandom >"$SC/tree/sub/big.bin"
chmod 0600 "$SC/tree/a-c"
chmod 0755 "$SC/tree/a/b/f"
ln -s ../a-c "$SC/tree/sub/link"
touch -h -d 2001-02-03T04:05:06Z "$SC/tree/sub/link" "$SC/tree/a/b/f"
touch -d 2001-02-03T04:05:06Z "$SC/tree/a/b" "$SC/tree"
for instr in COPY ADD; do
    cat >"$SC/Dockerfile.$instr" <<DF
FROM oci:$T/base:latest
$instr tree/ /srv/tree/
$instr --chown=1:2 --chmod=0750 tree/a-c tree/sub /etc/bosun/
$instr tree/a/b/f tree/a-c /srv/two/
$instr <<EOF /srv/here.txt
hello
EOF
$instr . /ctx/
$instr tree/sub/ /
DF
done
for instr in COPY ADD; do
    expect_exit 0 "$instr build of the same sources" env SOURCE_DATE_EPOCH=1700000000 \
        "$BOSUN" build -f "$SC/Dockerfile.$instr" --output oci:"$T/same-$instr" "$SC"
done
samecheck() {
    "$PYTHON" - "$T/same-COPY" "$T/same-ADD" <<'PY'
import json, sys, tarfile
def layers(d):
    idx = json.load(open(d + "/index.json"))
    m = json.load(open(d + "/blobs/" + idx["manifests"][0]["digest"].replace(":", "/")))
    return [l["digest"] for l in m["layers"]]
c, a = layers(sys.argv[1]), layers(sys.argv[2])
assert len(c) == 7, c
assert c[1:] == a[1:], (c, a)
t = tarfile.open(sys.argv[1] + "/blobs/" + c[2].replace(":", "/"))
m = {x.name: x for x in t.getmembers()}
x = m["etc/bosun/a-c"]
assert (x.uid, x.gid, x.mode) == (1, 2, 0o750), (x.uid, x.gid, oct(x.mode))
assert m["etc/bosun/link"].issym() and m["etc/bosun/link"].linkname == "../a-c"
t = tarfile.open(sys.argv[1] + "/blobs/" + c[1].replace(":", "/"))
m = {x.name: x for x in t.getmembers()}
assert m["srv/tree/a/b/f"].mtime == 981173106 and m["srv/tree/a/b/f"].mode == 0o755, m["srv/tree/a/b/f"]
assert m["srv/tree/sub/big.bin"].size == 3000000
names = [x.name for x in t.getmembers()]
assert names.index("srv/tree/a/b/f") < names.index("srv/tree/a-c"), names
PY
}
check "COPY (streamed) and ADD (on disk) write the same layers" samecheck

finish
