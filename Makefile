# bosun — developer build against Debian's -dev packages, static release
# build from Debian source packages (mk/static.mk), tests and benchmarks.

CC ?= cc
# make V=1 shows the compiler command lines.
Q := $(if $(V),,@)
PKGS := libcurl openssl libarchive libcjson libxml-2.0 sqlite3 zlib
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)

WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wvla -Wstrict-prototypes \
	-Wwrite-strings -Wno-unused-parameter -Wno-format-truncation
CFLAGS ?= -O2 -g
# pkg-config runs once per make, not once per object.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
# src/core/banned.h is forced on every compile: a banned function fails to build.
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -Isrc -D_GNU_SOURCE -include src/core/banned.h $(PKG_CFLAGS)
LIBS := $(PKG_LIBS) -lpthread -lm

BOSUN_SRCS := src/main.c $(sort $(wildcard src/*/*.c))
LIB_SRCS := $(filter-out src/main.c src/cmd/%,$(BOSUN_SRCS))
CMD_SRCS := $(filter src/cmd/%,$(BOSUN_SRCS))
B ?= build/dev
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(B)/%.o) $(B)/src/main.o
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

# Functions that have no place in this code base (unbounded or not
# thread-safe): src/core/banned.h makes each a compile error; `make banned`
# checks that it still does, one probe per function.
BANNED := strcpy strcat strncpy strncat sprintf vsprintf gets strtok gmtime localtime ctime asctime tmpnam mktemp

.PHONY: all deps test test-realworld unit e2e check-asan static static-e2e bench clean banned fmt demo structure-check FORCE
all: bosun

bosun: $(LIB_OBJS) $(CMD_OBJS)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(CMD_OBJS) $(LIB_OBJS) $(LIBS) $(LDFLAGS)

# Real header dependencies: each object's .d file lists what it includes.
$(B)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The version lives in one object, rebuilt when `git describe` changes.
$(B)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = '$(VERSION)' ] || printf '%s' '$(VERSION)' >$@
$(B)/src/core/version.o: src/core/version.c $(B)/version.stamp Makefile
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -DBOSUN_VERSION='"$(VERSION)"' -MMD -MP -c -o $@ $<
FORCE:

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d)

$(B)/tests/%: tests/unit/%.c tests/unit/test.c tests/unit/test.h $(LIB_OBJS) Makefile
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< tests/unit/test.c $(LIB_OBJS) $(LIBS)

banned:
	@for f in $(BANNED); do \
		printf '#include <stdio.h>\nvoid probe(char *a, char *b) { (void)%s(a, b); }\n' $$f | \
		$(CC) $(ALL_CFLAGS) -Wno-error -fsyntax-only -x c - 2>/dev/null && \
		{ echo "banned: $$f compiles (src/core/banned.h)"; exit 1; }; \
	done; echo "banned: every one of $(words $(BANNED)) functions is a compile error"

# The structure targets (docs/ARCHITECTURE.md): no file in src/ over 900
# lines, no function over 150, one cleanup style per function.
structure-check:
	@scripts/structure-check.sh

# Every build and test dependency, from Debian packages. Idempotent.
DEB_DEPS := build-essential pkg-config git file libcurl4-openssl-dev libssl-dev libarchive-dev \
	libcjson-dev libxml2-dev libsqlite3-dev zlib1g-dev musl-tools dpkg-dev docker-registry skopeo \
	busybox-static python3 python3-jsonschema libxml2-utils hyperfine apache2-utils \
	openssl curl clang libclang-rt-14-dev ca-certificates xz-utils tcl linux-libc-dev bc \
	python3-nacl python3-yaml buildah rpm debootstrap pigz db5.3-util unzip zip time \
	chromium groovy default-jre-headless ruby-cvss-suite python3-packaging \
	qemu-user-static binfmt-support
# Then, as root, qemu-aarch64 registered with binfmt_misc (F flag) for the
# multi-platform build suite (tests/lib/binfmt.sh; it mounts binfmt_misc if
# needed); the suite registers it too, and fails when it cannot.
deps:
	@missing=$$(for p in $(DEB_DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "all dependencies present"; fi
	@if [ "$$(id -u)" -ne 0 ]; then echo "binfmt_misc: not root, qemu-aarch64 not registered (tests/lib/binfmt.sh as root)"; \
	elif tests/lib/binfmt.sh aarch64; then echo "binfmt_misc: qemu-aarch64 registered"; \
	else echo "binfmt_misc: qemu-aarch64 could not be registered: 36_build_multiplatform will fail"; fi

# The unit programs only; the end-to-end scripts only (E2E="tests/e2e/10_cli.sh" for some).
unit: $(UNIT_BINS)
	@B=$(B) E2E=none tests/run.sh $(UNIT_BINS)
e2e: bosun
	@B=$(B) tests/run.sh

# Unit programs, then end-to-end scripts; closing line "N passed, N failed".
test: bosun $(UNIT_BINS) structure-check
	@B=$(B) tests/run.sh $(UNIT_BINS)

# Real-world images built by bosun and by buildah from the debootstrap'd
# bookworm minbase, trees and inventories compared with buildah, Trivy and
# dpkg-query (tests/realworld/; needs the Debian archive and the npm registry).
test-realworld: bosun
	@tests/realworld/run.sh

# Unit and e2e suites under AddressSanitizer and UBSan.
check-asan:
	$(MAKE) B=build/asan CC=clang CFLAGS='-Wno-unknown-warning-option -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' bosun-asan-test

bosun-asan-test: $(LIB_OBJS) $(CMD_OBJS) $(UNIT_BINS)
	$(CC) $(ALL_CFLAGS) -o build/asan/bosun $(CMD_OBJS) $(LIB_OBJS) $(LIBS) $(LDFLAGS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		BOSUN=$(CURDIR)/build/asan/bosun B=build/asan tests/run.sh $(UNIT_BINS)

# The release binary against real servers: transport, auth, TLS, build,
# scan, signing and ship.
STATIC_E2E := tests/e2e/11_roundtrip.sh tests/e2e/12_auth.sh tests/e2e/30_build_run.sh \
	tests/e2e/40_scan_db.sh tests/e2e/50_sign_cosign.sh tests/e2e/51_sign_bundle.sh tests/e2e/60_ship_e2e.sh
static-e2e: static
	@BOSUN=$(CURDIR)/dist/bosun-linux-amd64 E2E="$(STATIC_E2E)" tests/run.sh

# Each benchmark runs bosun and its peer on the same work and prints ratios.
bench: bosun
	tests/bench/run.sh
	tests/bench/build.sh
	tests/bench/build_copy.sh
	tests/bench/scan.sh
	tests/bench/scan_trivy.sh
	tests/bench/sign.sh
	tests/bench/ship.sh
	tests/bench/base.sh
	tests/bench/patch.sh
	tests/bench/multiplatform.sh

# One command on a fresh machine: dependencies, build, demo.
demo: deps
	$(MAKE) bosun
	scripts/demo.sh

fmt:
	clang-format -i src/*.c src/*/*.[ch] tests/unit/*.[ch]

clean:
	rm -rf build bosun dist

-include mk/static.mk
-include mk/fuzz.mk
-include mk/vsix.mk
