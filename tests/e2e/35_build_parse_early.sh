#!/usr/bin/env bash
# A bad Dockerfile or .dockerignore fails before any base image is pulled:
# the base is on a port where nothing listens, so a pull would exit 4 (the
# control below shows it); each bad input must exit 3 with a located message.
# Inputs: buildkit's own negative parser testfiles ($SHARED), the patterns
# Docker refuses in a .dockerignore, and hostile files (NUL bytes, invalid
# UTF-8, huge lines, deep nesting).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

T="$(tmpdir_new parseearly)"
C="$T/ctx"
mkdir -p "$C"
P="$(free_port)"
BASE="127.0.0.1:$P/nothing-here:1"
NEG="$SHARED/data/oracles/buildkit-dockerfile/frontend/dockerfile/parser/testfiles-negative"
build() { "$BOSUN" build --retries 0 "$C"; }
df() { printf '%s\n' "$@" >"$C/Dockerfile"; }

df "FROM $BASE" "RUN true"
expect_exit 4 "control: a valid Dockerfile gets as far as the pull (exit 4)" build
expect_out "control: the pull was tried" "pull $BASE"

# buildkit's negative testfiles, with our unreachable base where they name one.
n=0
for d in "$NEG"/*/; do
    name="$(basename "$d")"
    sed "s#^FROM busybox#FROM $BASE#" "$d/Dockerfile" >"$C/Dockerfile"
    expect_exit 3 "buildkit negative $name: refused with exit 3" build
    expect_no_out "buildkit negative $name: refused before the pull" "^pull "
    n=$((n + 1))
done
check "all 4 buildkit negative files were tried" test "$n" -ge 4
sed "s#^FROM busybox#FROM $BASE#" "$NEG/env_no_value/Dockerfile" >"$C/Dockerfile"
build >/dev/null 2>&1 || true
expect_exit 3 "ENV without a value" build
expect_out "ENV without a value is located" 'Dockerfile:3:1: ENV PATH has no value'
df "FROM $BASE" 'LABEL a=1 b'
expect_exit 3 "LABEL with a pair lacking =" build
expect_out "LABEL error is located" "Dockerfile:2:1: LABEL: no '=' in \"b\""
df "FROM $BASE" 'ARG =x'
expect_exit 3 "ARG with a blank name" build
df "FROM $BASE" 'ONBUILD ONBUILD RUN true'
expect_exit 3 "ONBUILD ONBUILD" build
expect_out "ONBUILD error is located" "Dockerfile:2:9: ONBUILD isn't allowed as an ONBUILD trigger"
df "FROM $BASE" 'CMD [ "echo", [ "nested json" ] ]'
expect_exit 3 "nested JSON array" build
expect_out "nested JSON is located" 'Dockerfile:2:5: when using JSON array syntax'

# Hostile Dockerfiles.
printf 'FROM %s\nRUN echo a\0b\n' "$BASE" >"$C/Dockerfile"
expect_exit 3 "a NUL byte in the Dockerfile" build
expect_out "the NUL byte is located" 'Dockerfile:2:11: NUL byte'
printf 'FROM %s\nRUN echo \xff\xfe caf\xc3\n' "$BASE" >"$C/Dockerfile"
expect_exit 4 "invalid UTF-8 in a RUN line is just bytes (parsed, then the pull)" build
nest() { printf 'FROM %s\nENV A=' "$BASE"; for _ in $(seq "$1"); do printf '${X:-'; done; printf 'x'; for _ in $(seq "$1"); do printf '}'; done; printf '\n'; }
nest 60 >"$C/Dockerfile"
expect_exit 4 "60 nested \${X:-...}: accepted" build
nest 100000 >"$C/Dockerfile"
expect_exit 3 "100000 nested \${X:-...}: refused before the pull, no stack overflow" build
expect_out "the nesting limit is named" 'Dockerfile:2:1: env: variable substitutions nested deeper than 64'
df "FROM $BASE" 'ENV A=${B'
expect_exit 3 "a bad substitution in ENV is refused before the pull" build
expect_out "bad substitution located" 'Dockerfile:2:1: env: bad substitution'
expect_no_out "bad substitution: no pull" '^pull '
df "FROM $BASE" "COPY 'unterminated /x"
expect_exit 3 "an unterminated quote in COPY is refused before the pull" build
printf 'FROM %s\nCOPY <<EOF /x\n${A\nEOF\n' "$BASE" >"$C/Dockerfile"
expect_exit 3 "a bad substitution in a COPY heredoc is refused before the pull" build
expect_out "heredoc substitution located" 'Dockerfile:2:1: copy: '
{ printf 'FROM %s\nRUN echo ' "$BASE"; head -c 3000000 /dev/zero | tr '\0' a; printf '\n'; } >"$C/Dockerfile"
expect_exit 4 "a 3 MB line is parsed" build
{ printf 'FROM %s\nRUN echo ' "$BASE"; head -c 5000000 /dev/zero | tr '\0' a; printf '\n'; } >"$C/Dockerfile"
expect_exit 3 "a Dockerfile over 4 MiB is refused" build
printf '' >"$C/Dockerfile"
expect_exit 3 "an empty Dockerfile" build
expect_out "empty file message" 'file with no instructions'

# .dockerignore patterns Docker refuses (filepath.ErrBadPattern).
df "FROM $BASE"
for pat in '[]a]' '[x-]' '[-x]' 'a\' '[a-b-c]' '[^' 'x[' '!'; do
    printf 'ok.txt\n%s\n' "$pat" >"$C/.dockerignore"
    expect_exit 3 ".dockerignore pattern '$pat' is refused" build
    expect_out ".dockerignore '$pat': line named, before the pull" '^bosun build: \.dockerignore:2: '
done
printf '%s\n' '[\]a]' '[\-]' 'a?b' 'ok/**' >"$C/.dockerignore"
expect_exit 4 "escapes inside [...] are accepted" build
{ printf 'a'; head -c 100000 /dev/zero | tr '\0' '*'; printf '\n'; } >"$C/.dockerignore"
expect_exit 3 "a 100 kB .dockerignore pattern is refused" build
expect_out "the long pattern message" 'pattern longer than 4096 bytes'
{ printf 'a'; head -c 4000 /dev/zero | tr '\0' '*'; printf 'b\n'; } >"$C/.dockerignore"
expect_exit 4 "a 4000-star pattern is fine" build
rm -f "$C/.dockerignore"

finish
