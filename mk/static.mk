# mk/static.mk — the release build: `make static` links one fully static
# x86_64 binary, dist/bosun-linux-amd64, with musl-gcc, against curl,
# OpenSSL, libarchive, zstd, zlib, libxml2, SQLite and cJSON built from
# Debian source packages by scripts/static-deps.sh into a cache outside the
# work tree (${XDG_CACHE_HOME:-~/.cache}/bosun-static, or
# $BOSUN_STATIC_CACHE). The first run builds the dependencies (a few
# minutes); later runs compile changed sources and relink.
#
# Included by the top-level Makefile, which provides:
#   BOSUN_SRCS  (required) the C sources of the binary
#   VERSION     (optional) for -DBOSUN_VERSION, unless BOSUN_DEFS is set
#   WARN        (optional) warning flags (-Werror is dropped here: a new
#               musl-only warning must not break a release build)
#   BOSUN_DEFS  (optional) the preprocessor defines; default
#               -D_GNU_SOURCE -DBOSUN_VERSION='"$(VERSION)"'
#   Q           (optional) @ to hide command lines
#
# Targets: static, static-smoke (static + tests/static/smoke.sh),
# static-clean. Internal: static-link (needs STATIC_PREFIX).

STATIC_MK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
STATIC_DEPS_SH := $(STATIC_MK_DIR)/../scripts/static-deps.sh

STATIC_CC ?= musl-gcc
STATIC_DIR ?= build/static
STATIC_BIN ?= dist/bosun-linux-amd64
STATIC_CFLAGS ?= -O2 -pipe -fstack-protector-strong -ffunction-sections -fdata-sections
STATIC_LDFLAGS ?= -static -Wl,--gc-sections
# Each library before the ones it needs.
STATIC_LIBS := -lcurl -lssl -lcrypto -larchive -lxml2 -lsqlite3 -lcjson -lzstd -lz -lpthread -lm
BOSUN_DEFS ?= -D_GNU_SOURCE -DBOSUN_VERSION='"$(or $(VERSION),0.0.0-dev)"'

STATIC_OBJS := $(BOSUN_SRCS:%.c=$(STATIC_DIR)/%.o)
STATIC_UNSTRIPPED := $(STATIC_DIR)/$(notdir $(STATIC_BIN)).unstripped

.PHONY: static static-link static-smoke static-clean

# The dependency script prints the prefix; the link runs in a sub-make that
# knows it (object rules need it at parse time).
static:
	@prefix=$$(BOSUN_STATIC_CC='$(STATIC_CC)' $(STATIC_DEPS_SH)) && [ -n "$$prefix" ] && \
		$(MAKE) --no-print-directory static-link STATIC_PREFIX="$$prefix"

static-smoke: static
	BOSUN_STATIC_REQUIRED=1 BOSUN_STATIC_BIN=$(STATIC_BIN) tests/static/smoke.sh

static-clean:
	rm -rf $(STATIC_DIR) $(STATIC_BIN)

ifneq ($(STATIC_PREFIX),)

STATIC_ALL_CFLAGS := -std=gnu11 $(filter-out -Werror,$(WARN)) $(STATIC_CFLAGS) \
	-Isrc -I$(STATIC_PREFIX)/include -I$(STATIC_PREFIX)/include/libxml2 \
	-idirafter $(STATIC_PREFIX)/../../kernel-headers \
	$(BOSUN_DEFS) -DBOSUN_STATIC=1 -DCURL_STATICLIB -DLIBXML_STATIC -include src/core/banned.h

# Everything is rebuilt when the flags or the dependency prefix (whose name
# is a hash of the dependency versions and recipes) change.
STATIC_FLAGS_FILE := $(STATIC_DIR)/flags
STATIC_FLAGS_NOW := $(STATIC_CC) $(STATIC_ALL_CFLAGS) | $(STATIC_LDFLAGS) $(STATIC_LIBS)
ifneq ($(file <$(STATIC_FLAGS_FILE)),$(STATIC_FLAGS_NOW))
$(shell mkdir -p $(STATIC_DIR))
$(file >$(STATIC_FLAGS_FILE),$(STATIC_FLAGS_NOW))
endif

$(STATIC_OBJS): $(STATIC_DIR)/%.o: %.c $(STATIC_FLAGS_FILE)
	@mkdir -p $(@D)
	$(Q)$(STATIC_CC) $(STATIC_ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(STATIC_UNSTRIPPED): $(STATIC_OBJS) $(STATIC_FLAGS_FILE)
	$(Q)$(STATIC_CC) $(STATIC_LDFLAGS) -o $@ $(STATIC_OBJS) -L$(STATIC_PREFIX)/lib $(STATIC_LIBS)

$(STATIC_BIN): $(STATIC_UNSTRIPPED)
	@mkdir -p $(@D)
	$(Q)strip -o $@.tmp $< && mv -f $@.tmp $@

static-link: $(STATIC_BIN)
	@printf 'static: %s, %s bytes (%s)\n' '$(STATIC_BIN)' \
		"$$(stat -c %s $(STATIC_BIN))" "$$(du -h $(STATIC_BIN) | cut -f1)"

-include $(STATIC_OBJS:.o=.d)

else

static-link:
	$(error static-link is internal: run "make static")

endif
