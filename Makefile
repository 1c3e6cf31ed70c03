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
V        ?= 0

ifeq ($(V),0)
Q := @
else
Q :=
endif

PKGS := libuv liblz4 libxxhash libsodium jansson libcurl
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Werror
DEPS_DIR := $(CURDIR)/build/deps

ifeq ($(RAFT),system)
RAFT_CFLAGS :=
RAFT_LIBS := -lraft
else
RAFT_CFLAGS := -I$(DEPS_DIR)/include
RAFT_LIBS := $(DEPS_DIR)/lib/libraft.a
endif

CFLAGS_ALL := -std=gnu11 -g $(OPT) $(WARN) -fPIC -I. $(RAFT_CFLAGS) \
              $(shell pkg-config --cflags $(PKGS) cmocka 2>/dev/null) \
              -DPC_RAFT_$(RAFT) $(CFLAGS)
LIBS_ALL := $(RAFT_LIBS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) \
            -lhttp_parser -lunistring -lpthread -lm $(LDLIBS)
ifneq ($(SANITIZE),)
CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
LIBS_ALL += -fsanitize=$(SANITIZE)
endif

SRC_CORE   := $(wildcard common/*.c storage/*.c)
SRC_NODE   := $(filter-out node/main.c,$(wildcard node/*.c node/*/*.c))
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

.PHONY: all deps test unit integration check bench fuzz run clean install \
        fmt fmt-check valgrind bench-compare
.DEFAULT_GOAL := all
.SECONDARY:

all: deps $(LIB_SERVER) $(NODE_BIN) $(TOOL_BINS) $(UNIT_BINS) \
     $(BUILD)/fsm-no-jansson

# Install missing packages and build raft only when something is missing.
deps:
	$(Q)tools/deps.sh --check || tools/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(filter 0,$(V)),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

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

$(BUILD)/%: $(BUILD)/obj/tools/%.o $(LIB_SERVER)
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(LIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(call obj,$(SRC_TLIB)) $(LIB_SERVER)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(LIBS_ALL) $(shell pkg-config --libs cmocka)

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIB_SERVER)
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

# The CI gate: formatting, -Werror build, unit tests under ASan+UBSan, short
# fuzz runs.
check: fmt-check
	$(Q)$(MAKE) --no-print-directory BUILD=build/san CC=clang OPT=-O1 \
		SANITIZE=address,undefined all
	$(Q)ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		tests/run-unit.sh build/san/tests
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-10}

valgrind:
	$(Q)$(MAKE) --no-print-directory BUILD=build/vg OPT=-O0 all
	$(Q)VALGRIND=1 tests/run-unit.sh build/vg/tests

bench: deps
	$(Q)$(MAKE) --no-print-directory OPT=-O2 BUILD=build/rel \
		$(patsubst $(BUILD)/%,build/rel/%,$(BENCH_BINS)) build/rel/provcat-node
	$(Q)tests/bench/run.sh build/rel

# The etcd anchor (../shared/bench/etcd-anchor.sh, or ETCD_ANCHOR=), then our
# record benchmark, side by side with the issue's targets.
bench-compare: deps
	$(Q)$(MAKE) --no-print-directory OPT=-O2 BUILD=build/rel build/rel/provcat-node
	$(Q)tests/bench/compare.sh build/rel

FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. $(RAFT_CFLAGS) \
               -fsanitize=fuzzer-no-link,address,undefined \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
# -MMD: a changed header rebuilds the objects (a stale harness once saw an
# older, shorter struct cfg and wrote past it).
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
build/fuzz/%: build/fuzz/obj/tests/fuzz/%.o \
              $(patsubst %.c,build/fuzz/obj/%.o,$(SRC_CORE) $(SRC_NODE))
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

clean:
	rm -rf $(filter-out build/deps,$(wildcard build/*))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(NODE_BIN) $(TOOL_BINS) $(DESTDIR)$(PREFIX)/bin/

FMT_SRC = $(wildcard common/*.[ch] storage/*.[ch] node/*.[ch] node/*/*.[ch] \
          client/*.[ch] tools/*.[ch] tests/*/*.[ch])
fmt:
	clang-format -i $(FMT_SRC)
fmt-check:
	$(Q)clang-format --dry-run --Werror $(FMT_SRC)

-include $(shell find $(BUILD)/obj build/fuzz/obj -name '*.d' 2>/dev/null)
