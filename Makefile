# SPDX-License-Identifier: MIT
# provcat build. Sources are discovered by directory: common/ storage/ node/
# (node/main.c is the daemon), client/ (libprovcat; cli.c is the CLI),
# tools/*.c (one binary each), tests/unit/test_*.c (one cmocka binary each),
# tests/bench/bench_*.c, tests/fuzz/fuzz_*.c. Outputs go to $(BUILD).

RAFT     ?= built
# Objects built against the two libraft versions never mix.
BUILD    ?= $(if $(filter system,$(RAFT)),build/sys,build)
CC       ?= cc
SANITIZE ?=
OPT      ?= -O2
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
V        ?= 0
# Arguments to tools/deps.sh: --build installs only what building the
# programs needs (the container image's build stage).
DEPS     ?=

ifeq ($(V),0)
Q := @
else
Q :=
endif

PKGS := libuv liblz4 libxxhash libsodium jansson libcurl
CLIENT_PKGS := libcurl jansson libsodium
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Werror
DEPS_DIR := $(CURDIR)/build/deps

# The packages' flags come from pkg-config, which knows them only once
# tools/deps.sh has installed the packages. Asked while this file is parsed
# they came out empty on a fresh machine, so its first `make test` linked
# nothing. build/config.mk is therefore a makefile that make brings up to
# date before anything else (tools/deps.sh, then pkg-config into it); when
# that changed it, make reads everything again with the flags. Goals that
# compile nothing skip it.
NODEPS_GOALS := clean fmt fmt-check fresh-check docker-test
ifneq ($(if $(MAKECMDGOALS),$(filter-out $(NODEPS_GOALS),$(MAKECMDGOALS)),all),)
include build/config.mk
endif

ifeq ($(RAFT),system)
RAFT_CFLAGS :=
RAFT_LIBS := -lraft
else
RAFT_CFLAGS := -I$(DEPS_DIR)/include
RAFT_LIBS := $(DEPS_DIR)/lib/libraft.a
endif

CFLAGS_ALL := -std=gnu11 -g $(OPT) $(WARN) -fPIC -I. $(RAFT_CFLAGS) \
              $(PKG_CFLAGS) $(CMOCKA_CFLAGS) -DPC_RAFT_$(RAFT) $(CFLAGS)
LIBS_ALL := $(RAFT_LIBS) $(PKG_LIBS) -lhttp_parser -lunistring -lpthread -lm \
            $(LDLIBS)
ifneq ($(SANITIZE),)
CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
LIBS_ALL += -fsanitize=$(SANITIZE)
endif

SRC_CORE   := $(wildcard common/*.c storage/*.c)
# node/testhooks.c goes into provcat-node-test only (below).
SRC_NODE   := $(filter-out node/main.c node/testhooks.c,\
                $(wildcard node/*.c node/*/*.c))
SRC_CLIENT := $(filter-out client/cli.c,$(wildcard client/*.c))
SRC_TLIB   := $(wildcard tests/lib/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
BENCH_SRC  := $(wildcard tests/bench/bench_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
TOOL_SRC   := $(wildcard tools/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_SERVER := $(BUILD)/libpcserver.a
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
TOOL_BINS  := $(patsubst tools/%.c,$(BUILD)/%,$(TOOL_SRC))
NODE_BIN   := $(if $(wildcard node/main.c),$(BUILD)/provcat-node)

# Test hooks: the sources with `#ifdef PC_TEST_HOOKS` blocks (a wrong
# clock, a fake free-space figure, a short catch-up, the allocation fault
# injector) are compiled a second time with -DPC_TEST_HOOKS into
# libpchooks.a. The unit tests and provcat-node-test (the node plus
# node/testhooks.c, which sets the hooks from PROVCAT_TEST_* variables; the
# integration tests run it for the tests that need one) link it before
# libpcserver.a, so the linker takes a member from it wherever a test uses
# a hook. provcat-node, the tools and libprovcat never link it:
# $(BUILD)/node-no-hooks fails the build if provcat-node has a trace of
# one. Hooks are global variables only (never struct fields), so objects
# built with and without them agree on every layout.
HOOK_SRC      := $(shell grep -l PC_TEST_HOOKS $(SRC_CORE) $(SRC_NODE))
HOOK_OBJ      := $(patsubst %.c,$(BUILD)/obj-hooks/%.o,$(HOOK_SRC))
LIB_HOOKS     := $(BUILD)/libpchooks.a
NODE_TEST_BIN := $(if $(NODE_BIN),$(BUILD)/provcat-node-test)

.PHONY: all deps test unit integration check bench fuzz run clean install \
        fmt fmt-check valgrind bench-compare fresh-check docker-test FORCE
.DEFAULT_GOAL := all
.SECONDARY:

all: $(LIB_SERVER) $(NODE_BIN) $(TOOL_BINS) $(UNIT_BINS) \
     $(BUILD)/fsm-no-jansson $(NODE_TEST_BIN) \
     $(if $(NODE_BIN),$(BUILD)/node-no-hooks)

# Install missing packages and build raft only when something is missing
# (tools/deps.sh --check takes well under a second), then write the flags;
# the file is replaced only when they changed, so make reads itself again
# only then. A package pkg-config cannot find is an error naming it.
build/config.mk: FORCE
	$(Q)tools/deps.sh --check $(DEPS) || tools/deps.sh $(DEPS)
	$(Q)mkdir -p build && t=$@.$$$$ && \
	cflags=$$(pkg-config --cflags $(PKGS)) && \
	libs=$$(pkg-config --libs $(PKGS)) && \
	{ echo "# Written by make (build/config.mk rule); do not edit."; \
	  echo "PKG_CFLAGS := $$cflags"; echo "PKG_LIBS := $$libs"; \
	  echo "CLIENT_PKG_LIBS := $$(pkg-config --libs $(CLIENT_PKGS))"; \
	  if pkg-config --exists cmocka; then \
	    echo "CMOCKA_CFLAGS := $$(pkg-config --cflags cmocka)"; \
	    echo "CMOCKA_LIBS := $$(pkg-config --libs cmocka)"; fi; } >$$t && \
	if cmp -s $$t $@; then rm -f $$t; else mv -f $$t $@; fi

# Done by build/config.mk, which every goal but clean and fmt brings up to
# date first.
deps:
	@:

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(filter 0,$(V)),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

# The git commit /metrics names (provcat_build_info): only metrics.o sees
# it, so a new commit recompiles that one file; "unknown" outside git.
$(BUILD)/commit.txt: FORCE
	@mkdir -p $(dir $@) && \
	c=$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown) && \
	if [ "$$(cat $@ 2>/dev/null)" != "$$c" ]; then echo "$$c" >$@; fi
$(BUILD)/obj/node/api/metrics.o: $(BUILD)/commit.txt
$(BUILD)/obj/node/api/metrics.o: CFLAGS_ALL += \
	-DPC_COMMIT=\"$$(cat $(BUILD)/commit.txt)\"

# Also after raft is rebuilt (tools/deps.sh, a new patch), so that every
# binary is linked again.
$(LIB_SERVER): $(call obj,$(SRC_CORE) $(SRC_NODE)) $(filter %.a,$(RAFT_LIBS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

# What replicas decide and append may depend only on our code: node/fsm/
# parses and writes JSON with common/jcs, never with jansson (whose version
# a node happens to have installed). The build fails if it comes back.
FSM_OBJS := $(call obj,$(wildcard node/fsm/*.c))
$(BUILD)/fsm-no-jansson: $(FSM_OBJS) $(wildcard node/fsm/*.[ch])
	$(Q)rm -f $@
	$(Q)if grep -n 'jansson\.h' $(wildcard node/fsm/*.[ch]); then \
		echo "node/fsm/ must not use jansson (docs/rules.md)"; exit 1; fi
	$(Q)if nm -A -u $(FSM_OBJS) | grep -E ' U _?json_'; then \
		echo "node/fsm/ must not call jansson (docs/rules.md)"; exit 1; fi
	$(Q)touch $@

$(BUILD)/provcat-node: $(call obj,node/main.c) $(LIB_SERVER)
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(LIBS_ALL)

$(BUILD)/obj-hooks/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(filter 0,$(V)),echo "  CC      $< (test hooks)")
	$(Q)$(CC) $(CFLAGS_ALL) -DPC_TEST_HOOKS -MMD -MP -c $< -o $@

$(LIB_HOOKS): $(HOOK_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The test objects see the hooks' declarations.
$(call obj,$(UNIT_SRC) $(SRC_TLIB)): CFLAGS_ALL += -DPC_TEST_HOOKS

$(BUILD)/provcat-node-test: $(call obj,node/main.c) \
                            $(BUILD)/obj-hooks/node/testhooks.o \
                            $(LIB_HOOKS) $(LIB_SERVER)
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(LIBS_ALL)

# The program make install installs has no test hook: no hook's symbol,
# no PROVCAT_TEST_ variable's name.
$(BUILD)/node-no-hooks: $(BUILD)/provcat-node
	$(Q)rm -f $@
	$(Q)if nm $< | grep -E 'test_hook|pc_alloc_fault|pc_alloc_count'; then \
		echo "$<: test hooks in the installed program"; exit 1; fi
	$(Q)if grep -a -o 'PROVCAT_TEST_[A-Z_]*' $<; then \
		echo "$<: test hooks in the installed program"; exit 1; fi
	$(Q)touch $@

$(BUILD)/%: $(BUILD)/obj/tools/%.o $(LIB_SERVER)
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(LIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(call obj,$(SRC_TLIB)) \
                  $(LIB_HOOKS) $(LIB_SERVER)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(LIBS_ALL) $(CMOCKA_LIBS)

# The state-machine benchmarks share tests/bench/benchlib.c.
$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o \
                  $(call obj,tests/bench/benchlib.c tests/lib/cmdfx.c) \
                  $(LIB_SERVER)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(LIBS_ALL)

# Unit tests, then integration tests; each runner prints its own summary.
test: all
	$(Q)tests/run-unit.sh $(BUILD)/tests
	$(Q)if [ -x tests/integration/run.sh ]; then \
		BUILD=$(BUILD) tests/integration/run.sh; fi

unit: all
	$(Q)tests/run-unit.sh $(BUILD)/tests

integration: all
	$(Q)BUILD=$(BUILD) tests/integration/run.sh

# The CI gate: formatting, -Werror build, unit tests under ASan+UBSan, the
# node's start-up (every failure it can be given), SIGHUP and clean stop
# under ASan+UBSan with leak detection (tests/integration/test_startup.py),
# short fuzz runs.
check: fmt-check
	$(Q)$(MAKE) --no-print-directory BUILD=build/san CC=clang OPT=-O1 \
		SANITIZE=address,undefined all
	$(Q)ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		tests/run-unit.sh build/san/tests
	$(Q)ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		BUILD=build/san python3 tests/integration/run.py test_startup
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-10}

valgrind:
	$(Q)$(MAKE) --no-print-directory BUILD=build/vg OPT=-O0 all
	$(Q)VALGRIND=1 tests/run-unit.sh build/vg/tests

bench: deps
	$(Q)$(MAKE) --no-print-directory OPT=-O2 BUILD=build/rel \
		$(patsubst $(BUILD)/%,build/rel/%,$(BENCH_BINS)) build/rel/provcat-node
	$(Q)tests/bench/run.sh build/rel

# The etcd anchor (tests/bench/etcd.sh, or ETCD_ANCHOR=), then our record
# benchmark, side by side with the issue's targets.
bench-compare: deps
	$(Q)$(MAKE) --no-print-directory OPT=-O2 BUILD=build/rel build/rel/provcat-node
	$(Q)tests/bench/compare.sh build/rel

FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. $(RAFT_CFLAGS) \
               -fsanitize=fuzzer-no-link,address,undefined $(PKG_CFLAGS)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
# -MMD: a changed header rebuilds the objects (a stale harness once saw an
# older, shorter struct cfg and wrote past it).
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
# The harness the rules' targets share (tests/fuzz/fuzzlib.c) is linked
# into every target.
FUZZ_LIB := tests/fuzz/fuzzlib.c tests/lib/cmdfx.c
build/fuzz/%: build/fuzz/obj/tests/fuzz/%.o \
              $(patsubst %.c,build/fuzz/obj/%.o,$(FUZZ_LIB) $(SRC_CORE) \
                $(SRC_NODE))
	$(Q)clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS_ALL)
fuzz: deps $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
			-artifact_prefix=build/fuzz/$$n- \
			build/fuzz/corpus/$$n tests/fuzz/corpus/$$n \
			>build/fuzz/$$n.log 2>&1 || \
			{ tail -40 build/fuzz/$$n.log; exit 1; }; \
		grep -E '^#[0-9]+.*DONE' build/fuzz/$$n.log | tail -1; \
	done

run: all
	$(Q)tools/local-cluster.sh $(BUILD)

# The README's two commands on a fresh Debian 12 root (needs root).
fresh-check:
	$(Q)tools/fresh-check.sh

# The container image end to end: docker/test.sh (needs root).
docker-test:
	$(Q)docker/test.sh

# Keeps the built raft (build/deps) and the Debian roots of fresh-check and
# docker-test (build/fresh).
clean:
	rm -rf $(filter-out build/deps build/fresh,$(wildcard build/*))

# The man page is the program's own --help, as troff.
$(BUILD)/provcat-node.1: $(BUILD)/provcat-node tools/mkman.sh
	$(Q)tools/mkman.sh $< 1 >$@.tmp && mv -f $@.tmp $@

# The programs, the man page, the systemd unit (its paths follow BINDIR and
# SYSCONFDIR) and the configuration example; DESTDIR for staging.
install: $(NODE_BIN) $(TOOL_BINS) $(BUILD)/provcat-node.1
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/provcat
	install -m 755 $(NODE_BIN) $(TOOL_BINS) $(DESTDIR)$(BINDIR)/
	install -m 644 $(BUILD)/provcat-node.1 $(DESTDIR)$(MANDIR)/man1/
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		tools/systemd/provcat-node.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/provcat-node.service
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/provcat-node.service
	install -m 644 tools/systemd/provcat-node.conf.example \
		$(DESTDIR)$(SYSCONFDIR)/provcat/
# TODO(#15): the client library, once client/ builds it: libprovcat.a and
# libprovcat.so.N (with its symlinks) into $(PREFIX)/lib, client/provcat.h
# into $(PREFIX)/include, provcat.pc (its prefix filled in as the unit's
# paths are above) into $(PREFIX)/lib/pkgconfig, and the provcat CLI into
# $(BINDIR) beside provcat-node (the container image takes every program
# installed there).

FMT_SRC = $(wildcard common/*.[ch] storage/*.[ch] node/*.[ch] node/*/*.[ch] \
          client/*.[ch] tools/*.[ch] tests/*/*.[ch])
fmt:
	clang-format -i $(FMT_SRC)
fmt-check:
	$(Q)clang-format --dry-run --Werror $(FMT_SRC)

# ---- libprovcat and the provcat CLI (client/) ---------------------------
# The library (client/*.c but the CLI's cli*.c, with the parts of common/
# and storage/mrk.c it uses) is compiled apart with -fvisibility=hidden, so
# the shared library exports provcat_* alone; the static archive is one
# relocatable object whose hidden symbols are made local, so a program
# linking it sees nothing else either (tests/integration/test_client.py
# checks both with nm). The CLI, the examples and the library's tests
# against a real cluster (tests/client/, run by the integration runner)
# are built here too.
CLIENT_LIB_SRC := $(filter-out client/cli.c client/cli_%.c, \
                    $(wildcard client/*.c)) \
                  common/alloc.c common/buf.c common/err.c common/hash.c \
                  common/jsonesc.c \
                  storage/mrk.c
CLIENT_LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/lib/%.o,$(CLIENT_LIB_SRC))
# From build/config.mk, like every pkg-config flag (read after deps).
CLIENT_LIBS    := $(CLIENT_PKG_LIBS) -lpthread
PROVCAT_SOVER  := 1
LIBPROVCAT_A   := $(BUILD)/libprovcat.a
LIBPROVCAT_SO  := $(BUILD)/libprovcat.so
CLI_SRC        := $(wildcard client/cli.c client/cli_*.c)
CLI_BIN        := $(BUILD)/provcat
EXAMPLE_BINS   := $(patsubst client/examples/%.c,$(BUILD)/examples/%, \
                    $(wildcard client/examples/*.c))
CLIENT_TEST_BINS := $(patsubst tests/client/%.c,$(BUILD)/tests/client/%, \
                      $(wildcard tests/client/test_*.c))
LIBDIR         ?= $(PREFIX)/lib

.PHONY: install-client openapi-check

all: $(LIBPROVCAT_A) $(LIBPROVCAT_SO) $(CLI_BIN) $(EXAMPLE_BINS) \
     $(CLIENT_TEST_BINS)

$(BUILD)/obj/lib/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(filter 0,$(V)),echo "  CC      $< (lib)")
	$(Q)$(CC) $(CFLAGS_ALL) -fvisibility=hidden -MMD -MP -c $< -o $@

$(LIBPROVCAT_A): $(CLIENT_LIB_OBJ)
	@echo "  AR      $@"
	$(Q)ld -r -o $(BUILD)/obj/lib/provcat.o $^
	$(Q)objcopy --localize-hidden $(BUILD)/obj/lib/provcat.o
	$(Q)rm -f $@ && ar rcs $@ $(BUILD)/obj/lib/provcat.o

$(LIBPROVCAT_SO): $(CLIENT_LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) -shared -Wl,-soname,libprovcat.so.$(PROVCAT_SOVER) \
		-o $@.$(PROVCAT_SOVER) $^ $(CLIENT_LIBS) \
		$(if $(SANITIZE),-fsanitize=$(SANITIZE))
	$(Q)ln -sf libprovcat.so.$(PROVCAT_SOVER) $@

# The CLI links the library's sources built as usual, and storage/ for the
# offline backup check.
$(CLI_BIN): $(call obj,$(CLI_SRC) $(filter client/%,$(CLIENT_LIB_SRC)) \
                       $(SRC_CORE))
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(LIBS_ALL)

$(BUILD)/examples/%: client/examples/%.c $(LIBPROVCAT_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS_ALL) -Iclient -o $@ $< $(LIBPROVCAT_A) $(CLIENT_LIBS) \
		$(if $(SANITIZE),-fsanitize=$(SANITIZE))

$(BUILD)/tests/client/test_%: $(BUILD)/obj/tests/client/test_%.o \
                              $(BUILD)/obj/tests/client/cluster.o \
                              $(LIBPROVCAT_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(CLIENT_LIBS) $(CMOCKA_LIBS) \
		$(if $(SANITIZE),-fsanitize=$(SANITIZE))

install: install-client
install-client: $(LIBPROVCAT_A) $(LIBPROVCAT_SO) $(CLI_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 755 $(CLI_BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 client/provcat.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(LIBPROVCAT_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIBPROVCAT_SO).$(PROVCAT_SOVER) $(DESTDIR)$(LIBDIR)/
	ln -sf libprovcat.so.$(PROVCAT_SOVER) $(DESTDIR)$(LIBDIR)/libprovcat.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e "s|@VERSION@|$$(sed -n 's/^#define PROVCAT_VERSION *"\(.*\)"/\1/p' \
		client/provcat.h)|" client/provcat.pc.in \
		>$(DESTDIR)$(LIBDIR)/pkgconfig/provcat.pc

# The fuzz target of the library's answer readers links the library too.
build/fuzz/fuzz_client: build/fuzz/obj/tests/fuzz/fuzz_client.o \
    $(patsubst %.c,build/fuzz/obj/%.o,$(SRC_CORE) \
      $(filter client/%,$(CLIENT_LIB_SRC)))
	$(Q)clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS_ALL)

# make bench's import row (tests/bench/cluster.sh) runs the CLI of the
# same -O2 build as the nodes.
.PHONY: bench-cli
bench bench-compare: bench-cli
bench-cli: deps
	$(Q)$(MAKE) --no-print-directory OPT=-O2 BUILD=build/rel build/rel/provcat

# docs/openapi.yaml: valid OpenAPI 3.1, and the router's table and the
# spec name the same routes (tests/openapi/check.sh).
test: openapi-check
openapi-check:
	$(Q)tests/openapi/check.sh
# ---- end of client/ -------------------------------------------------------

# ---- provcat-reconcile (tools/reconcile/) --------------------------------
# One program from tools/reconcile/*.c (docs/reconcile.md): it talks to a
# cluster through libprovcat (the library's sources built as usual, as the
# CLI links them) and reads backups offline with storage/. Its unit test,
# tests/unit/test_reconcile.c, links the same objects but main.c.
RECONCILE_SRC  := $(wildcard tools/reconcile/*.c)
RECONCILE_OBJ  := $(call obj,$(filter-out tools/reconcile/main.c, \
                    $(RECONCILE_SRC)) $(filter client/%,$(CLIENT_LIB_SRC)))
RECONCILE_BIN  := $(BUILD)/provcat-reconcile

.PHONY: install-reconcile

all: $(RECONCILE_BIN)

$(RECONCILE_BIN): $(call obj,tools/reconcile/main.c) $(RECONCILE_OBJ) \
                  $(call obj,$(SRC_CORE))
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(LIBS_ALL)

$(BUILD)/tests/test_reconcile: $(BUILD)/obj/tests/unit/test_reconcile.o \
                               $(RECONCILE_OBJ) $(call obj,$(SRC_TLIB)) \
                               $(LIB_HOOKS) $(LIB_SERVER)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(LIBS_ALL) $(CMOCKA_LIBS)

# Its fuzz target (make fuzz) links the export readers and comparisons.
build/fuzz/fuzz_reconcile: build/fuzz/obj/tests/fuzz/fuzz_reconcile.o \
    $(patsubst %.c,build/fuzz/obj/%.o,$(SRC_CORE) tools/reconcile/csv.c \
      tools/reconcile/diff.c)
	$(Q)clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS_ALL)

install: install-reconcile
install-reconcile: $(RECONCILE_BIN)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(RECONCILE_BIN) $(DESTDIR)$(BINDIR)/
# ---- end of provcat-reconcile ---------------------------------------------

-include $(shell find $(BUILD)/obj $(BUILD)/obj-hooks build/fuzz/obj \
            -name '*.d' 2>/dev/null)
