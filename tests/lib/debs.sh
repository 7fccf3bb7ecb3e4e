# shellcheck shell=bash
# tests/lib/debs.sh — fetch Debian .debs of another architecture for tests,
# without touching the machine's apt set-up.
#
#   deb_fetch ARCH PACKAGE   prints the path of PACKAGE_*_ARCH.deb
#
# apt-get update and apt-get download run under a private configuration:
# their own sources.list (bookworm main from the mirror the host uses, for
# ARCH only, signed by the host's Debian keyring), state, lists and cache
# directories under ~/.cache/bosun-test/apt-ARCH, APT::Architecture=ARCH.
# The machine's sources, lists and dpkg architectures stay as they are. The
# .debs are kept in ~/.cache/bosun-test/debs and reused.

if [ -n "${_BOSUN_DEBS_SH:-}" ]; then return 0; fi
_BOSUN_DEBS_SH=1

DEB_CACHE="${DEB_CACHE:-${HOME:-/root}/.cache/bosun-test}"

# The host's Debian mirror and suite (deb822 or one-line sources), else deb.debian.org bookworm.
_deb_mirror() {
    local uri suite
    uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' |
        grep -v security | head -n1)
    suite=$(grep -hE '^Suites:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | head -n1)
    if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
        read -r _ uri suite _ < <(grep -E '^deb ' /etc/apt/sources.list | grep -v security | head -n1)
    fi
    printf '%s %s\n' "${uri:-http://deb.debian.org/debian}" "${suite:-bookworm}"
}

deb_fetch() {
    local arch="$1" pkg="$2" dir out f mirror suite
    dir="$DEB_CACHE/apt-$arch" out="$DEB_CACHE/debs"
    mkdir -p "$out"
    f=$(ls "$out/${pkg}_"*"_$arch.deb" 2>/dev/null | head -n1 || true)
    if [ -n "$f" ]; then printf '%s\n' "$f"; return 0; fi
    read -r mirror suite < <(_deb_mirror)
    mkdir -p "$dir/etc/sources.list.d" "$dir/etc/preferences.d" "$dir/state/lists/partial" \
        "$dir/cache/archives/partial" "$dir/dl"
    touch "$dir/state/status"
    printf 'deb [arch=%s signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
        "$arch" "$mirror" "$suite" >"$dir/etc/sources.list"
    local -a opts=(
        -o "Dir::Etc::SourceList=$dir/etc/sources.list"
        -o "Dir::Etc::SourceParts=$dir/etc/sources.list.d"
        -o "Dir::Etc::PreferencesParts=$dir/etc/preferences.d"
        -o "Dir::State=$dir/state" -o "Dir::State::status=$dir/state/status"
        -o "Dir::Cache=$dir/cache"
        -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
        -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
    )
    apt-get "${opts[@]}" -qq update >"$dir/update.log" 2>&1 || {
        echo "debs.sh: apt-get update for $arch failed:" >&2; tail -n 5 "$dir/update.log" >&2; return 1; }
    (cd "$dir/dl" && rm -f ./*.deb && apt-get "${opts[@]}" -qq download "$pkg:$arch") >"$dir/download.log" 2>&1 || {
        echo "debs.sh: apt-get download $pkg:$arch failed:" >&2; tail -n 5 "$dir/download.log" >&2; return 1; }
    f=$(ls "$dir/dl/"*.deb | head -n1)
    [ "$(dpkg-deb -f "$f" Architecture)" = "$arch" ] || {
        echo "debs.sh: $f is not $arch" >&2; return 1; }
    mv "$f" "$out/${pkg}_$(dpkg-deb -f "$f" Version | tr ':' '%')_$arch.deb"
    ls "$out/${pkg}_"*"_$arch.deb" | head -n1
}
