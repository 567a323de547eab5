# SPDX-License-Identifier: MIT
#
# libgup build.  GNU Make; out-of-tree: everything goes under $(BUILD).
#
#   make [BUILD=dir] [CC=clang] [SAN=address,undefined] [WERROR=0] [V=1]
#   make check          build everything, run the cmocka tests
#   make bench          build the benchmarks
#   make install        PREFIX=/usr/local DESTDIR=
#   make check-install  install into a scratch DESTDIR, link a program against it
#   make check-exports  every global symbol of libgup.so / libgup.a is gup_*
#   make fuzz           build the litmus parser's libFuzzer target (clang)
#   make fuzz-run       run it for FUZZ_TIME seconds (default 60)
#
# Sources are found by wildcard:
#   src/*.c src/*/*.c       the library
#   tests/test_*.c          one cmocka program each; tests/common/*.c linked into all
#   bench/*.c               one program each;        bench/common/*.c linked into all
#   tools/*.c               together, the `gup` program

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:

VERSION    := 0.1.0
SOVERSION  := $(firstword $(subst ., ,$(VERSION)))

BUILD      ?= build
override BUILD := $(patsubst %/,%,$(BUILD))

# `CC ?=` would not do: make predefines CC=cc.
ifeq ($(origin CC),default)
CC := gcc
endif
LD         ?= ld
AR         ?= ar
OBJCOPY    ?= objcopy
NM         ?= nm
READELF    ?= readelf
PKG_CONFIG ?= pkg-config
INSTALL    ?= install

WERROR     ?= 1
SAN        ?=

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

# ---------------------------------------------------------------------------
# Flags

CFLAGS     ?= -O2 -g
WARNFLAGS  ?= -Wall -Wextra
ifeq ($(WERROR),1)
WARNFLAGS  += -Werror
endif
ifneq ($(strip $(SAN)),)
SANFLAGS   := -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
# clang links the sanitizer runtime into executables only, so a shared library
# built with it has undefined __asan_* / __ubsan_* symbols: drop -z defs then.
ZDEFS      :=
else
SANFLAGS   :=
ZDEFS      := -Wl,-z,defs
endif

# POSIX 2008 on top of strict C11 (clock_gettime, pthreads...).  A source may
# still #define _GNU_SOURCE / _DEFAULT_SOURCE, or _POSIX_C_SOURCE 200809L.
BASE_CPPFLAGS := -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc
BASE_CFLAGS   := -std=c11 $(WARNFLAGS) $(CFLAGS) -pthread $(SANFLAGS)
DEPFLAGS      := -MMD -MP

LIB_CFLAGS    := $(BASE_CFLAGS) -fPIC -fvisibility=hidden
PROG_CFLAGS   := $(BASE_CFLAGS)

LIB_LIBS      := -pthread -lm
PROG_LDFLAGS  := $(LDFLAGS) -pthread $(SANFLAGS)
PROG_LIBS     := -pthread -lm $(LDLIBS)
# -rdynamic: misuse reports name the calling test function (dladdr).
TEST_LIBS     := -rdynamic -lcmocka $(PROG_LIBS)

# ---------------------------------------------------------------------------
# Sources and outputs

LIB_SRCS    := $(sort $(wildcard src/*.c src/*/*.c))
TEST_SRCS   := $(sort $(wildcard tests/test_*.c))
TESTC_SRCS  := $(sort $(wildcard tests/common/*.c))
BENCH_SRCS  := $(sort $(wildcard bench/*.c))
BENCHC_SRCS := $(sort $(wildcard bench/common/*.c))
TOOL_SRCS   := $(sort $(wildcard tools/*.c))
HEADERS     := $(sort $(wildcard include/gup/*.h))
MAN1        := $(sort $(wildcard man/*.1))
MAN3        := $(sort $(wildcard man/*.3))
MAN7        := $(sort $(wildcard man/*.7))

OBJ         := $(BUILD)/obj
obj_of       = $(patsubst %.c,$(OBJ)/%.o,$(1))

LIB_OBJS    := $(call obj_of,$(LIB_SRCS))
TESTC_OBJS  := $(call obj_of,$(TESTC_SRCS))
BENCHC_OBJS := $(call obj_of,$(BENCHC_SRCS))
TOOL_OBJS   := $(call obj_of,$(TOOL_SRCS))

TEST_BINS   := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
BENCH_BINS  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
GUP_TOOL    := $(if $(TOOL_SRCS),$(BUILD)/gup)

SO_REAL     := libgup.so.$(VERSION)
SO_NAME     := libgup.so.$(SOVERSION)
LIB_STATIC  := $(BUILD)/libgup.a
LIB_INTERNAL := $(BUILD)/libgup-internal.a
LIB_SHARED  := $(BUILD)/$(SO_REAL)
LIB_LINKS   := $(BUILD)/$(SO_NAME) $(BUILD)/libgup.so
LIB_RELOC   := $(OBJ)/libgup-public.o
MAPFILE     := src/libgup.map

ALL_OBJS    := $(LIB_OBJS) $(TESTC_OBJS) $(BENCHC_OBJS) $(TOOL_OBJS) \
               $(call obj_of,$(TEST_SRCS) $(BENCH_SRCS))

# ---------------------------------------------------------------------------
# Stamps: rebuild when the compiler or flags change, relink when the set of
# library objects changes (a source removed leaves no newer file behind).

FLAGS_STAMP := $(BUILD)/.stamp-flags
LIBSET_STAMP := $(BUILD)/.stamp-libobjs
FLAGS_NOW   := $(CC) | $(BASE_CPPFLAGS) | $(LIB_CFLAGS) | $(PROG_CFLAGS) | $(LDFLAGS) | $(LDLIBS)

# update_stamp(file,content): rewrite the file only when its content changes.
define update_stamp
	@mkdir -p $(dir $(1))
	@if [ "$$(cat $(1) 2>/dev/null)" != '$(2)' ]; then printf '%s\n' '$(2)' > $(1); fi
endef

$(FLAGS_STAMP): FORCE
	$(call update_stamp,$@,$(FLAGS_NOW))

$(LIBSET_STAMP): FORCE
	$(call update_stamp,$@,$(LIB_OBJS))

.PHONY: FORCE
FORCE:

# ---------------------------------------------------------------------------
# Top-level targets

.PHONY: all libs tool tests bench check check-exports check-install install uninstall clean

all: libs tool tests bench

libs: $(LIB_STATIC) $(LIB_INTERNAL) $(LIB_SHARED) $(LIB_LINKS)

tool: $(GUP_TOOL)

tests: $(TEST_BINS)

bench: $(BENCH_BINS)

check: all
	@mkdir -p $(BUILD)/tests
	$(Q)bash scripts/run-tests.sh $(BUILD)/tests $(T)

# ---------------------------------------------------------------------------
# Compilation

$(OBJ)/src/%.o: src/%.c $(FLAGS_STAMP)
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CPPFLAGS) $(CPPFLAGS) $(LIB_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OBJ)/tests/%.o: tests/%.c $(FLAGS_STAMP)
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CPPFLAGS) $(CPPFLAGS) $(PROG_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OBJ)/bench/%.o: bench/%.c $(FLAGS_STAMP)
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CPPFLAGS) -Ibench/common $(CPPFLAGS) $(PROG_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OBJ)/tools/%.o: tools/%.c $(FLAGS_STAMP)
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CPPFLAGS) $(CPPFLAGS) $(PROG_CFLAGS) $(DEPFLAGS) -c $< -o $@

# ---------------------------------------------------------------------------
# Libraries

# Internal archive: every object, every symbol (tests, benches, the tool).
$(LIB_INTERNAL): $(LIB_OBJS) $(LIBSET_STAMP)
	$(call msg,AR,$@)
	@rm -f $@
	$(Q)$(AR) rcs $@ $(LIB_OBJS)

# Public static library: one relocatable object whose hidden symbols are made
# local, so only the GUP_API (default-visibility) functions are global.
$(LIB_RELOC): $(LIB_OBJS) $(LIBSET_STAMP)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(LD) -r -o $@.tmp $(LIB_OBJS)
	$(Q)$(OBJCOPY) --localize-hidden $@.tmp $@
	@rm -f $@.tmp

$(LIB_STATIC): $(LIB_RELOC)
	$(call msg,AR,$@)
	@rm -f $@
	$(Q)$(AR) rcs $@ $<

$(LIB_SHARED): $(LIB_OBJS) $(MAPFILE) $(LIBSET_STAMP)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,$(SO_NAME) -Wl,--version-script=$(MAPFILE) \
		$(ZDEFS) -Wl,--as-needed $(LDFLAGS) $(SANFLAGS) \
		-o $@ $(LIB_OBJS) $(LIB_LIBS)

$(BUILD)/$(SO_NAME): $(LIB_SHARED)
	$(Q)ln -sf $(SO_REAL) $@

$(BUILD)/libgup.so: $(BUILD)/$(SO_NAME)
	$(Q)ln -sf $(SO_NAME) $@

# ---------------------------------------------------------------------------
# Programs

$(BUILD)/tests/%: $(OBJ)/tests/%.o $(TESTC_OBJS) $(LIB_INTERNAL)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(PROG_LDFLAGS) -o $@ $< $(TESTC_OBJS) $(LIB_INTERNAL) $(TEST_LIBS)

$(BUILD)/bench/%: $(OBJ)/bench/%.o $(BENCHC_OBJS) $(LIB_INTERNAL)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(PROG_LDFLAGS) -o $@ $< $(BENCHC_OBJS) $(LIB_INTERNAL) $(PROG_LIBS)

$(BUILD)/gup: $(TOOL_OBJS) $(LIB_INTERNAL)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(PROG_LDFLAGS) -o $@ $(TOOL_OBJS) $(LIB_INTERNAL) $(PROG_LIBS)

# ---------------------------------------------------------------------------
# Checks on the built libraries

# Every global symbol defined by libgup.so and libgup.a must be gup_*.
# (LIBGUP_0.1 is the version node of the .so, an absolute symbol.)
check-exports: $(LIB_SHARED) $(LIB_STATIC)
	@set -e; fail=0; \
	for spec in "$(LIB_SHARED):-D" "$(LIB_STATIC):"; do \
		lib=$${spec%%:*}; opt=$${spec#*:}; \
		syms=$$($(NM) $$opt -g --defined-only $$lib | \
			awk 'NF == 3 && !($$2 == "A" && $$3 ~ /^LIBGUP_/) { sub(/@.*/, "", $$3); print $$3 }' | sort -u); \
		bad=$$(printf '%s\n' "$$syms" | grep -v -e '^gup_' -e '^$$' || true); \
		good=$$(printf '%s\n' "$$syms" | grep -c '^gup_' || true); \
		if [ -n "$$bad" ]; then \
			echo "check-exports: $$lib exports non-gup_ symbols:"; \
			printf '  %s\n' $$bad; fail=1; \
		elif [ "$$good" -eq 0 ]; then \
			echo "check-exports: $$lib exports no gup_ symbol at all"; fail=1; \
		else \
			echo "check-exports: $$lib: $$good symbols, all gup_*"; \
		fi; \
	done; \
	exit $$fail

# Install into a scratch DESTDIR, then build a program against it through
# pkg-config, dynamically and statically, and run both.
CI_DIR := $(abspath $(BUILD))/check-install
check-install: libs tool
	@rm -rf $(CI_DIR)
	@mkdir -p $(CI_DIR)
	$(Q)$(MAKE) --no-print-directory install BUILD=$(BUILD) \
		DESTDIR=$(CI_DIR)/root > $(CI_DIR)/install.log
	@printf '%s\n' \
		'#include <gup/gup.h>' \
		'#include <stdint.h>' \
		'#include <stdio.h>' \
		'' \
		'int main(int argc, char **argv)' \
		'{' \
		'	volatile uintptr_t p = (uintptr_t)&gup_world_create;' \
		'	(void)argc;' \
		'	printf("%s: gup_world_create is %s\n", argv[0], p ? "linked" : "NULL");' \
		'	return p == 0;' \
		'}' > $(CI_DIR)/prog.c
	@set -e; cd $(CI_DIR); \
	export PKG_CONFIG_PATH=$(CI_DIR)/root$(PKGCONFIGDIR) PKG_CONFIG_SYSROOT_DIR=$(CI_DIR)/root; \
	libdir=$(CI_DIR)/root$(LIBDIR); \
	echo "check-install: gup version $$($(PKG_CONFIG) --modversion gup)"; \
	cflags=$$($(PKG_CONFIG) --cflags gup); \
	libs=$$($(PKG_CONFIG) --libs gup); \
	slibs=$$($(PKG_CONFIG) --static --libs gup | sed 's/-lgup\b/-l:libgup.a/'); \
	set -x; \
	$(CC) -std=c11 -Wall -Wextra -Werror $(SANFLAGS) $$cflags prog.c -o prog-dynamic $$libs; \
	$(CC) -std=c11 -Wall -Wextra -Werror $(SANFLAGS) $$cflags prog.c -o prog-static $$slibs; \
	{ set +x; } 2>/dev/null; \
	$(READELF) -d prog-dynamic | grep -q 'NEEDED.*\[$(SO_NAME)\]' || \
		{ echo "check-install: prog-dynamic does not need $(SO_NAME)"; exit 1; }; \
	if $(READELF) -d prog-static | grep -q 'NEEDED.*libgup'; then \
		echo "check-install: prog-static needs libgup.so"; exit 1; fi; \
	LD_LIBRARY_PATH=$$libdir ./prog-dynamic; \
	./prog-static; \
	echo "check-install: OK (installed tree in $(CI_DIR)/root)"

# ---------------------------------------------------------------------------
# Fuzzing: not part of all or check (it needs clang's libFuzzer and time).
# The parser's sources are compiled straight into the target, with the
# sanitizers; the corpus grows in $(BUILD)/fuzz/corpus, seeded from the tests'
# litmus files, and every crash is written to fuzz/crashers/, which
# test_litmus_parse replays in every `make check`.

FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_BIN   := $(BUILD)/fuzz/litmus_parse_fuzz
# The front end only (the interpreter, when it comes, needs the whole engine).
FUZZ_SRCS  := fuzz/litmus_parse_fuzz.c $(addprefix src/litmus/,lex.c ops.c parse.c print.c) \
	      src/policy/policy.c src/stats.c

.PHONY: fuzz fuzz-run

fuzz: $(FUZZ_BIN)

$(FUZZ_BIN): $(FUZZ_SRCS) $(wildcard src/litmus/*.h) src/policy/policy.h
	$(call msg,FUZZ,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(BASE_CPPFLAGS) -std=c11 $(WARNFLAGS) -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $(FUZZ_SRCS)

fuzz-run: $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus fuzz/crashers
	$(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -dict=fuzz/litmus.dict \
		-artifact_prefix=fuzz/crashers/ -print_final_stats=1 \
		$(BUILD)/fuzz/corpus tests/litmus tests/litmus-syntax

# ---------------------------------------------------------------------------
# Install

$(BUILD)/gup.pc: gup.pc.in FORCE
	@mkdir -p $(@D)
	@sed -e 's|@PREFIX@|$(PREFIX)|g' \
	     -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|g' \
	     -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|g' \
	     -e 's|@VERSION@|$(VERSION)|g' $< > $@

install: libs tool $(BUILD)/gup.pc
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR)/gup $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(if $(HEADERS),$(INSTALL) -m 0644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/gup/)
	$(INSTALL) -m 0644 $(LIB_STATIC) $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 0755 $(LIB_SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SO_REAL) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/libgup.so
	$(INSTALL) -m 0644 $(BUILD)/gup.pc $(DESTDIR)$(PKGCONFIGDIR)/gup.pc
ifneq ($(GUP_TOOL),)
	$(INSTALL) -d $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 0755 $(GUP_TOOL) $(DESTDIR)$(BINDIR)/gup
endif
ifneq ($(MAN1),)
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
endif
ifneq ($(MAN3),)
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man3
	$(INSTALL) -m 0644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/
endif
ifneq ($(MAN7),)
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man7
	$(INSTALL) -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/
endif

uninstall:
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/gup/,$(notdir $(HEADERS)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/gup 2>/dev/null
	rm -f $(DESTDIR)$(LIBDIR)/libgup.a $(DESTDIR)$(LIBDIR)/$(SO_REAL) \
	      $(DESTDIR)$(LIBDIR)/$(SO_NAME) $(DESTDIR)$(LIBDIR)/libgup.so \
	      $(DESTDIR)$(PKGCONFIGDIR)/gup.pc $(DESTDIR)$(BINDIR)/gup
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
	      $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3))) \
	      $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MAN7)))

clean:
	rm -rf $(BUILD)

# Named here so that make treats them as ordinary files, not intermediates
# to delete after a build.
.PHONY: objs
objs: $(ALL_OBJS)

-include $(ALL_OBJS:.o=.d)
