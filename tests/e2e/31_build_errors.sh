#!/usr/bin/env bash
# bosun build with bad input: Dockerfile errors carry FILE:LINE:COL and exit
# 3, a failing RUN exits 1 naming the step, nothing is pushed after a
# failure, a crafted base layer cannot write outside the root; and the RUN
# sandbox works rootless (a user namespace under a fresh unprivileged user).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$TESTLIB/registry.sh"
. "$TESTLIB/images.sh"

T="$(tmpdir_new builderr)"
chmod 755 "$T" "$BT_ROOT"
registry_start_open
make_busybox_oci "$T/base" latest
B="oci:$T/base:latest"
C="$T/ctx"
mkdir -p "$C"
echo hi >"$C/file"
echo outside >"$T/outside-secret"

df() { printf '%s\n' "$@" >"$C/Dockerfile"; }

df "FROM $B" "FORM x"
expect_exit 3 "unknown instruction exits 3" "$BOSUN" build "$C"
expect_out "names file:line:col" 'Dockerfile:2:1: unknown instruction "FORM"'

df "FROM $B" 'RUN echo ${X' ""
df "FROM $B" 'ENV A=${B' 
expect_exit 3 "bad substitution exits 3" "$BOSUN" build "$C"
expect_out "bad substitution is located" 'Dockerfile:2:1: env: bad substitution'

df "FROM $B" "RUN <<EOF" "echo never closed"
expect_exit 3 "unterminated heredoc exits 3" "$BOSUN" build "$C"
expect_out "heredoc error is located" 'Dockerfile:2:1: unterminated heredoc <<EOF'

df "FROM $B" "COPY ../outside-secret /x"
expect_exit 3 "COPY outside the context exits 3" "$BOSUN" build "$C"
expect_out "COPY error names the path and line" 'Dockerfile:2:1: copy: "../outside-secret": path outside the build context'

ln -s ../outside-secret "$C/link-out"
df "FROM $B" "COPY link-out /x" "RUN cat /x"
expect_exit 3 "a context symlink pointing out is not followed out" "$BOSUN" build "$C"
expect_no_out "the outside file was not read" '^outside$'
rm "$C/link-out"

df "FROM $B" "COPY nosuchfile /x"
expect_exit 3 "missing source exits 3" "$BOSUN" build "$C"
expect_out "missing source is named" 'Dockerfile:2:1: copy: .*nosuchfile'

df "FROM $B AS one" "COPY --from=5 /etc/passwd /x"
expect_exit 3 "missing stage index exits 3" "$BOSUN" build "$C"
expect_out "missing stage is named" 'Dockerfile:2:1: copy: --from=5: no such stage'
df "FROM $B AS one" "RUN true"
expect_exit 3 "missing --target stage exits 3" "$BOSUN" build --target nope "$C"
expect_out "target error" 'target stage "nope" not found'

df "FROM $REG/does-not-exist:1"
expect_exit 3 "a base that does not exist exits 3" "$BOSUN" build "$C"
expect_out "base error is located" 'Dockerfile:1:1: from: base image'

df "FROM $B" "RUN echo before-fail && exit 7" "RUN echo never"
expect_exit 1 "failing RUN exits 1" "$BOSUN" build -t "$REG/failed:1" --push "$C"
expect_out "failing RUN names file, line, step and code" 'Dockerfile:2:1: run: step 1/2 failed: .* exited with code 7'
expect_out "RUN output reaches the build log" '^before-fail$'
expect_exit 1 "nothing was pushed after the failure" skopeo inspect --tls-verify=false docker://"$REG/failed:1"
check "the manifest is really absent" sh -c "! curl -sf $REG_URL/v2/failed/manifests/1 >/dev/null"

# --- a RUN that never started is not a failing command (issue 13) -----------
# The sandbox's children send their error through a close-on-exec pipe: the
# command's own exit code is 1, what the image lacks is 3, a sandbox that
# cannot be set up is 5, each with its reason.
df "FROM scratch" "RUN true"
expect_exit 3 "FROM scratch + RUN: no shell in the image exits 3" "$BOSUN" build "$C"
expect_out "the missing shell is named as Docker names it" 'Dockerfile:2:1: run: exec: /bin/sh: no such file or directory'
df "FROM $B" 'RUN ["/no/such/tool", "x"]'
expect_exit 3 "exec form with a missing command exits 3" "$BOSUN" build "$C"
expect_out "the missing command is named" 'exec: /no/such/tool: no such file or directory'
df "FROM $B" 'RUN ["/etc/passwd"]'
expect_exit 3 "a command that is not executable exits 3" "$BOSUN" build "$C"
expect_out "permission denied is the reason" 'exec: /etc/passwd: permission denied'
df "FROM $B" "RUN exit 125"
expect_exit 1 "a command's own exit 125 is still the command's failure (1)" "$BOSUN" build "$C"
expect_out "exit 125 is reported as the command's code" 'exited with code 125'
df "FROM $B" "RUN exit 127"
expect_exit 1 "a shell's own exit 127 is the command's failure (1)" "$BOSUN" build "$C"
if command -v setpriv >/dev/null; then
    # No CAP_SYS_ADMIN (a container's default): the namespaces cannot be made.
    df "FROM $B" "RUN true"
    expect_exit 5 "a sandbox that cannot be set up exits 5" \
        setpriv --bounding-set -sys_admin --inh-caps -sys_admin "$BOSUN" build "$C"
    expect_out "the set-up failure names its reason" 'run: sandbox: unshare namespaces: Operation not permitted'
else
    skip "sandbox set-up failure" "setpriv not installed (util-linux)"
fi

# --- crafted base layers -------------------------------------------------
OUTSIDE="$T/host-outside"
mkdir -p "$OUTSIDE"
mk_crafted() { # DIR KIND: a one-layer image whose tar tries to escape
    local dir="$1" kind="$2"
    mkdir -p "$dir"
    "$PYTHON" - "$dir/layer.tar" "$kind" "$OUTSIDE" <<'PY'
import io, sys, tarfile
out, kind, outside = sys.argv[1:4]
t = tarfile.open(out, "w", format=tarfile.PAX_FORMAT)
def add(name, data=b"pwned\n", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.type == tarfile.REGTYPE:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)
if kind == "dotdot":
    add("../../../../" + outside.lstrip("/") + "/dotdot")
elif kind == "symlink":
    add("bin", type=tarfile.DIRTYPE, mode=0o755)
    add("escape", type=tarfile.SYMTYPE, linkname=outside)
    add("escape/via-symlink")
    add("rel", type=tarfile.SYMTYPE, linkname="../../../../../../" + outside.lstrip("/"))
    add("rel/via-relative")
    add("abs-name-ok", data=b"x")
    add("/" + outside.lstrip("/") + "/absolute")
elif kind == "hardlink":
    add("hl", type=tarfile.LNKTYPE, linkname="../../../../" + outside.lstrip("/") + "/target")
t.close()
PY
    _img_write_layout "$dir" latest crafted "$dir/layer.tar"
}
echo keep >"$OUTSIDE/target"
for kind in dotdot symlink hardlink; do
    mk_crafted "$T/crafted-$kind" "$kind"
done
printf '%s\n' "FROM oci:$T/crafted-dotdot:latest" "COPY file /file" 'RUN ["/nothing"]' >"$C/Dockerfile"
expect_exit 3 "a layer member with .. is refused with exit 3" "$BOSUN" build "$C"
expect_out "the refusal names the member" 'escapes the root'
printf '%s\n' "FROM oci:$T/crafted-hardlink:latest" "RUN [\"/nothing\"]" >"$C/Dockerfile"
expect_exit 3 "a hardlink pointing out is refused with exit 3" "$BOSUN" build "$C"
printf '%s\n' "FROM oci:$T/crafted-symlink:latest" "COPY --from=0 /escape/via-symlink /copied" >"$C/Dockerfile"
"$BOSUN" build --output oci:"$T/crafted-out" "$C" >/dev/null 2>&1 || true
check "nothing was written outside the root" test "$(ls "$OUTSIDE")" = target
check "the hardlink target is untouched" test "$(cat "$OUTSIDE/target")" = keep

# --- rootless --------------------------------------------------------------
RL=bosunrl
id "$RL" >/dev/null 2>&1 || useradd -m "$RL" >/dev/null 2>&1 || true
if ! id "$RL" >/dev/null 2>&1; then
    skip "rootless build" "cannot create a user"
elif ! su "$RL" -s /bin/sh -c 'unshare --user --map-root-user true' >/dev/null 2>&1; then
    skip "rootless build" "the kernel forbids unprivileged user namespaces"
else
    RC="$T/rlctx"
    mkdir -p "$RC"
    echo data >"$RC/f"
    printf 'S3CRET-rootless-%s' "$RANDOM" >"$T/rl-secret"
    cat >"$RC/Dockerfile" <<DF
FROM oci:$T/base:latest
COPY f /app/f
RUN mkdir /d && touch /d/old && echo made > /app/made && rm /etc/group
RUN --mount=type=secret,id=s wc -c < /run/secrets/s > /app/slen && rm -rf /d && mkdir /d && touch /d/new
CMD ["cat", "/app/made"]
DF
    chmod -R a+rX "$T"
    chmod a+r "$T/rl-secret"
    mkdir -p "$T/rl-out" && chown "$RL" "$T/rl-out"
    expect_exit 0 "rootless build (user namespace)" su "$RL" -s /bin/sh -c \
        "TMPDIR='$T/rl-out' '$BOSUN' build --secret id=s,src='$T/rl-secret' -t $REG/rootless:1 --push '$RC'"
    BA=(--root "$T/bstore" --runroot "$T/brun" --storage-driver vfs)
    c="$(buildah "${BA[@]}" from --quiet --tls-verify=false "docker://$REG/rootless:1" 2>/dev/null)" || c=""
    expect_exit 0 "buildah runs the rootless image" buildah "${BA[@]}" run --isolation chroot "$c" -- \
        sh -c 'cat /app/made /app/slen; ls /d; test -e /etc/group || echo group-gone; stat -c "%u:%g" /app/f /app/made'
    expect_out "rootless RUN output is in the image" '^made$'
    expect_out "rootless secret mount" "^$(wc -c <"$T/rl-secret")\$"
    expect_out "rootless opaque dir" '^new$'
    expect_no_out "rootless opaque dir hides old" '^old$'
    expect_out "rootless whiteout" '^group-gone$'
    expect_out "rootless files are owned by root in the image" '^0:0$'
    expect_no_out "no file owned by the build user" "^$(id -u "$RL"):"
    [ -n "$c" ] && buildah "${BA[@]}" rm "$c" >/dev/null 2>&1
    # Rootless COPY streams its layer, ADD builds it on disk: same bytes.
    for instr in COPY ADD; do
        printf '%s\n' "FROM oci:$T/base:latest" "$instr --chown=7:7 . /app/" >"$T/rlctx/Dockerfile.$instr"
    done
    chmod a+r "$T"/rlctx/Dockerfile.*
    for instr in COPY ADD; do
        expect_exit 0 "rootless $instr of the context" su "$RL" -s /bin/sh -c \
            "SOURCE_DATE_EPOCH=1700000000 TMPDIR='$T/rl-out' '$BOSUN' build -f '$T/rlctx/Dockerfile.$instr' --output oci:'$T/rl-out/same-$instr' '$T/rlctx'"
    done
    rl_layers() { "$PYTHON" -c 'import json,sys
d=sys.argv[1]; i=json.load(open(d+"/index.json"))
print(json.load(open(d+"/blobs/"+i["manifests"][0]["digest"].replace(":","/")))["layers"][-1]["digest"])' "$1"; }
    check "rootless COPY and ADD write the same layer" \
        test "$(rl_layers "$T/rl-out/same-COPY")" = "$(rl_layers "$T/rl-out/same-ADD")"
fi

finish
