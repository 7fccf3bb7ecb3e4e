# shellcheck shell=bash
# tests/lib/images.sh — build small OCI image layouts for tests by hand, so
# no test depends on a network registry or an image already on the machine.
#
# Output is deterministic: fixed mtimes and owners, sorted tar entries,
# `gzip -n`, compact JSON written byte-for-byte.  The same inputs give the
# same digests on every run (for a given busybox binary and gzip version).
#
# After a successful call these are set in the calling shell:
#   IMG_MANIFEST_DIGEST  sha256:... of the OCI manifest
#   IMG_CONFIG_DIGEST    sha256:... of the config blob
#   IMG_LAYER_DIGESTS    space-separated sha256:... of the compressed layers
#   IMG_DIFF_IDS         space-separated sha256:... of the uncompressed layers

# shellcheck disable=SC2034  # the IMG_* results are for the caller
if [ -n "${_BOSUN_IMAGES_SH:-}" ]; then return 0; fi
_BOSUN_IMAGES_SH=1

_img_sha256() { sha256sum "$1" | cut -d' ' -f1; }
_img_size() { stat -c %s "$1"; }

# Debian architecture names → OCI (GOARCH) names.
_img_arch() {
    local a
    a="$(dpkg --print-architecture 2>/dev/null || uname -m)"
    case "$a" in
        amd64 | x86_64) echo "amd64" ;;
        arm64 | aarch64) echo "arm64" ;;
        armhf | armel) echo "arm" ;;
        i386 | i686) echo "386" ;;
        ppc64el) echo "ppc64le" ;;
        *) echo "$a" ;;
    esac
}

# _img_tar SRC_DIR OUT_TAR: reproducible tar of SRC_DIR's contents.
_img_tar() {
    tar --create --file="$2" --directory="$1" --format=ustar \
        --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 .
}

# _img_write_layout DIR TAG CREATED_BY LAYER_TAR...: gzip the layer tars,
# store everything as blobs and write config, manifest, index.json and
# oci-layout.  The tars are consumed (removed).
_img_write_layout() {
    local dir="$1" tag="$2" created_by="$3"; shift 3
    local blobs="$dir/blobs/sha256" t gz diff dig size
    local layers_json="" diff_json="" hist_json=""
    mkdir -p "$blobs"
    IMG_LAYER_DIGESTS=""
    IMG_DIFF_IDS=""
    for t in "$@"; do
        diff="$(_img_sha256 "$t")"
        gz="$t.gz"
        gzip -n -c "$t" >"$gz"
        rm -f "$t"
        dig="$(_img_sha256 "$gz")"
        size="$(_img_size "$gz")"
        mv "$gz" "$blobs/$dig"
        layers_json+="${layers_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dig\",\"size\":$size}"
        diff_json+="${diff_json:+,}\"sha256:$diff\""
        hist_json+="${hist_json:+,}{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"$created_by\"}"
        IMG_LAYER_DIGESTS+="${IMG_LAYER_DIGESTS:+ }sha256:$dig"
        IMG_DIFF_IDS+="${IMG_DIFF_IDS:+ }sha256:$diff"
    done

    local cfg="$dir/config.tmp"
    printf '%s' "{\"architecture\":\"$(_img_arch)\",\"config\":{\"Cmd\":[\"/bin/sh\"],\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]},\"created\":\"1970-01-01T00:00:00Z\",\"history\":[$hist_json],\"os\":\"linux\",\"rootfs\":{\"diff_ids\":[$diff_json],\"type\":\"layers\"}}" >"$cfg"
    local cdig csize
    cdig="$(_img_sha256 "$cfg")"
    csize="$(_img_size "$cfg")"
    mv "$cfg" "$blobs/$cdig"
    IMG_CONFIG_DIGEST="sha256:$cdig"

    local man="$dir/manifest.tmp"
    printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cdig\",\"size\":$csize},\"layers\":[$layers_json]}" >"$man"
    local mdig msize
    mdig="$(_img_sha256 "$man")"
    msize="$(_img_size "$man")"
    mv "$man" "$blobs/$mdig"
    IMG_MANIFEST_DIGEST="sha256:$mdig"

    printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$mdig\",\"size\":$msize,\"annotations\":{\"org.opencontainers.image.ref.name\":\"$tag\"}}]}" >"$dir/index.json"
    printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
}

# make_busybox_oci DIR [TAG=latest]: a one-layer image holding the static
# busybox from the busybox-static package, applet symlinks in /bin, a
# minimal /etc/passwd and /etc/group, and /tmp — enough for `sh -c` in
# `buildah run --isolation chroot`.  Reference it as oci:DIR:TAG.
make_busybox_oci() {
    local dir="$1" tag="${2:-latest}" bb=/bin/busybox
    if ! [ -x "$bb" ] || ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
        echo "make_busybox_oci: need a static $bb (apt-get install busybox-static)" >&2
        return 1
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    local work root
    work="$(mktemp -d "$dir/.work.XXXXXX")"
    root="$work/rootfs"
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
    cp "$bb" "$root/bin/busybox"
    local a
    for a in $("$bb" --list); do
        case "$a" in busybox | */* | .* | '') continue ;; esac
        ln -s busybox "$root/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    # Explicit modes so the umask of whoever runs the tests does not leak
    # into the digests.
    chmod 0755 "$root" "$root/bin" "$root/etc" "$root/bin/busybox"
    chmod 0700 "$root/root"
    chmod 1777 "$root/tmp"
    chmod 0644 "$root/etc/passwd" "$root/etc/group"
    if ! _img_tar "$root" "$work/layer.tar" ||
        ! _img_write_layout "$dir" "$tag" "bosun tests: busybox-static" "$work/layer.tar"; then
        rm -rf "$work"
        return 1
    fi
    rm -rf "$work"
}

# make_multilayer_oci DIR N SIZE_MB [TAG=latest]: N layers, each one file of
# SIZE_MB MiB of incompressible pseudo-random bytes (AES-CTR keystream with
# a key derived from N, SIZE_MB and the layer index).  Different N/SIZE_MB
# give images that share no layers, so benchmarks never hit a blob mount.
make_multilayer_oci() {
    local dir="$1" n="$2" mb="$3" tag="${4:-latest}" i
    rm -rf "$dir"
    mkdir -p "$dir"
    local work tars=()
    work="$(mktemp -d "$dir/.work.XXXXXX")"
    for ((i = 1; i <= n; i++)); do
        local root="$work/root$i"
        mkdir -p "$root/data"
        # openssl dies of SIGPIPE when head has enough; that is expected.
        { openssl enc -aes-128-ctr -nosalt -pbkdf2 -iter 1 \
            -pass "pass:bosun-multilayer-$n-$mb-$i" </dev/zero 2>/dev/null || true; } |
            head -c "$((mb * 1024 * 1024))" >"$root/data/layer-$i.bin"
        chmod 0755 "$root" "$root/data"
        chmod 0644 "$root/data/layer-$i.bin"
        _img_tar "$root" "$work/layer$i.tar" || { rm -rf "$work"; return 1; }
        rm -rf "$root"
        tars+=("$work/layer$i.tar")
    done
    _img_write_layout "$dir" "$tag" "bosun tests: random data" "${tars[@]}" ||
        { rm -rf "$work"; return 1; }
    rm -rf "$work"
}
