# mk/fuzz.mk — libFuzzer targets (tests/fuzz/fuzz_NAME.c), built with Debian's
# clang under ASan and UBSan into build/fuzz/.
#   make fuzz                  build every target
#   make fuzz-smoke            run each for FUZZ_SECONDS (default 30) from its
#                              seed corpus tests/fuzz/corpus/NAME/, after replaying
#                              tests/fuzz/known/NAME-*; any crash fails
#   make fuzz-smoke FUZZ_TARGETS="ref vercmp"   a subset
# New inputs found during a run go to build/fuzz/corpus/NAME/ (not the seeds);
# crashes are saved as build/fuzz/crash/NAME-*.
# Included by the top-level Makefile (needs LIB_SRCS, PKGS, WARN, VERSION).

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link -Isrc -Itests/fuzz -D_GNU_SOURCE \
	-include src/core/banned.h -DBOSUN_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -Wno-unknown-warning-option
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_ALL := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BINS := $(FUZZ_ALL:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)

.PHONY: fuzz fuzz-smoke
.SECONDARY: $(FUZZ_LIB_OBJS)
fuzz: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
-include $(FUZZ_LIB_OBJS:.o=.d)

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(LIBS)

fuzz-smoke: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/smoke.sh $(FUZZ_TARGETS)
