# sigpipe-lab: one entry point. `make help` lists the targets.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror
CPPFLAGS += -D_DEFAULT_SOURCE
BUILD    := build
LABS     := $(notdir $(wildcard labs/[0-9]*))
LAB_NUMS := $(foreach l,$(LABS),$(firstword $(subst -, ,$(l))))
# Every program of every lab: its server and client, and any other program
# the lab needs (lab 8 has several servers and a launcher).
LAB_BINS := $(patsubst %.c,$(BUILD)/%,$(wildcard labs/[0-9]*/*.c))
SOL_BINS := $(BUILD)/solution/server $(BUILD)/solution/client
TRACER   := $(BUILD)/sigtrace
TR_SRCS  := $(filter-out capture/fuzz_%.c,$(wildcard capture/*.c)) lib/die.c
TR_HDRS  := $(wildcard capture/*.h) lib/die.h
TRACES   := $(BUILD)/traces

.PHONY: all labs sigtrace help deps test clean solution $(addprefix lab-,$(LAB_NUMS))

all: deps $(LAB_BINS) $(SOL_BINS) $(TRACER) ## build everything into build/

labs: deps $(LAB_BINS) ## build the labs' servers and clients

help: ## list the targets
	@grep -hE '^([a-zA-Z0-9_%-]+|\$$\(addprefix [a-z-]+,[^)]*\)\)):.*## ' $(MAKEFILE_LIST) | \
		sed -E 's/^\$$\(addprefix ([a-z-]+),[^)]*\)\)/\1N/; s/^([^:]+):.*## (.*)/  make \1\t\2/' | expand -t 24

# What `deps` checks (and installs) depends on what was asked for: a lab needs a
# compiler and libpcap only; grading needs bubblewrap and a static libc too;
# the tests and the developer targets need more
# (scripts/install-deps lists each group). DEPS_GROUP=dev on the command line
# asks for everything.
DEV_GOALS  := lint sanitize valgrind fuzz bench
GRADE_GOALS := grade grade-all
DEPS_GROUP ?= $(if $(filter $(DEV_GOALS),$(MAKECMDGOALS)),dev,$(if $(filter test,$(MAKECMDGOALS)),test,$(if $(filter $(GRADE_GOALS),$(MAKECMDGOALS)),grade,lab)))

deps: ## check what the targets asked for need (a lab: compiler, libpcap; test, lint...: more), installing what is missing
	@scripts/install-deps $(DEPS_GROUP) --check-or-install

$(BUILD)/labs/%: labs/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $<

# Small programs tests/calls.bats runs under the tracer, one a file of tests/fixtures/calls/.
TEST_BINS := $(patsubst tests/fixtures/calls/%.c,$(BUILD)/tests/calls/%,$(wildcard tests/fixtures/calls/*.c))

$(BUILD)/tests/calls/%: tests/fixtures/calls/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $<

$(BUILD)/solution/%: solution/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $<

# The tracer needs Linux interfaces (ptrace, unshare, process_vm_readv), hence
# _GNU_SOURCE. libpcap's flags are asked for when the recipe runs, after
# `deps` has had the chance to install it.
# $(call link_tracer,FLAGS): the recipe that builds the tracer into $@ with FLAGS
# (the normal build's CFLAGS, or the sanitizers' in mk/sanitize.mk).
link_tracer = mkdir -p $(@D); \
	$(CC) $(WARN) -D_GNU_SOURCE $(1) $$(pkg-config --cflags libpcap) -o $@ $(TR_SRCS) \
		$$(pkg-config --libs libpcap)

# The tracer is optimised across its files (link-time optimisation): its
# per-packet path runs through decode.c, tcp.c, tcp_table.c and zeek*.c, and
# calls between them cost as much as the work. TRACER_LTO= builds without.
TRACER_LTO ?= -flto=auto

# One object a source, so that the files compile side by side (make -j) and a
# change recompiles only what it touches (-MMD: each object's headers).
TR_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TR_SRCS))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) $(TRACER_LTO) $$(pkg-config --cflags libpcap) -MMD -MP -c -o $@ $<

-include $(TR_OBJS:.o=.d)

$(TRACER): $(TR_OBJS)
	$(CC) $(WARN) $(CFLAGS) $(TRACER_LTO) -o $@ $(TR_OBJS) $$(pkg-config --libs libpcap)

sigtrace: deps $(TRACER) ## build the tracer, build/sigtrace

# Each run happens under the tracer in a private network namespace (so runs
# never clash, and no root is needed), leaving the capture and the events in
# build/traces/, with the diagram as a page (.html). SIGTRACE_FLAGS adds
# options, e.g. SIGTRACE_FLAGS=--ladder.
SIGTRACE_FLAGS ?=
# SCENARIO_FLAGS adds options to labs/scenario, e.g.
# SCENARIO_FLAGS=--server=server-fork for one of lab 8's other servers.
SCENARIO_FLAGS ?=
# $(call traced,SCENARIO,TRACE): the shell commands that run labs/scenario
# SCENARIO under the tracer, keep build/traces/TRACE.{pcapng,jsonl,html}, and fail
# only if the tracer was interrupted (a lab's verdict is not a failure).
traced = mkdir -p $(TRACES); \
	$(TRACER) --netns $(SIGTRACE_FLAGS) -w $(TRACES)/$(2).pcapng -o $(TRACES)/$(2).jsonl \
		--html $(TRACES)/$(2).html -- labs/scenario $(SCENARIO_FLAGS) "$(1)"; \
	status=$$?; echo "(capture: $(TRACES)/$(2).pcapng, events: $(TRACES)/$(2).jsonl)"; \
	echo "(diagram: $(TRACES)/$(2).html: open it in a browser)"; \
	[ $$status -lt 128 ] || exit $$status

$(addprefix lab-,$(LAB_NUMS)): lab-%: deps $(LAB_BINS) $(TRACER) ## run lab N's scenario under the tracer and explain it (N: a lab's number, see labs/)
	@lab=$$(cd labs && ls -d $*-*); $(call traced,$$lab,lab-$*)

lab-%:
	@echo "make: there is no lab $* (the labs are: $(LAB_NUMS))" >&2; exit 2

# `make lab-` (no number, as from `make lab-$N` with N unset): lab-% cannot
# match an empty stem, so without this rule make would look for lab-.o and
# answer "there is no lab .o".
.PHONY: lab-
lab-:
	@echo "make: lab- needs a lab number, e.g. make lab-1 (the labs are: $(LAB_NUMS))" >&2; exit 2

solution: deps $(SOL_BINS) $(TRACER) ## build and run the correct server through the same scenario, traced
	@$(call traced,solution,solution)

# Fuzzing: clang's libFuzzer with AddressSanitizer and UBSan on the code that
# reads untrusted bytes, seeded with the capture fixtures (as classic pcap, the
# target's input format). Crashes land in build/fuzz/ as crash-* files.
FUZZ_TIME ?= 60
FUZZ_SRCS := capture/fuzz_decode.c capture/decode.c capture/decode_tunnel.c capture/tcp.c capture/tcp_table.c capture/zeek.c capture/zeek_gaps.c capture/notes_tcp.c capture/notebuf.c capture/vocab.c \
	capture/event.c capture/pcapng.c
.PHONY: fuzz

$(BUILD)/fuzz/fuzz_decode: $(FUZZ_SRCS) $(TR_HDRS)
	@mkdir -p $(@D)
	clang $(WARN) -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o $@ $(FUZZ_SRCS)

fuzz: deps $(BUILD)/fuzz/fuzz_decode ## fuzz the packet decoder and connection tracker for FUZZ_TIME seconds (60)
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/seeds
	@for f in tests/fixtures/*.pcap*; do \
		editcap -F nsecpcap "$$f" "$(BUILD)/fuzz/seeds/$${f##*/}.pcap" >/dev/null 2>&1 || true; \
	done
	$(BUILD)/fuzz/fuzz_decode -max_total_time=$(FUZZ_TIME) -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus $(BUILD)/fuzz/seeds

# Test files run side by side (GNU parallel), one more than the machine has
# cores, each test waiting for conditions rather than for time, so load does not
# fail them. The grader's files wait more than they compute (its reply and
# spin windows): one file more keeps the cores busy meanwhile. On 2 cores, the
# suite alone took 400 s with 2 files at once, 324 s with 3, 309 s with 4: by
# then it is bound by its CPU time (about 560 CPU-s).
TEST_JOBS ?= $(shell echo $$(($$(nproc 2>/dev/null || echo 1) + 1)))
# The longest files start first (their order from a quiet run, longest first), so
# that the run does not end waiting for one begun last; the others follow.
TEST_FIRST := sigtrace html golden grade solution grade-servers quiz grade-hostile causality offline
TEST_FILES := $(TEST_FIRST:%=tests/%.bats) \
	$(filter-out $(TEST_FIRST:%=tests/%.bats),$(sort $(wildcard tests/*.bats)))

# The build runs TEST_JOBS compilers at once, once `deps` has installed what
# they need (its own make: prerequisites of one target are built side by side).
test: deps ## run the whole test suite: the unit tests, then bats (TEST_JOBS files at once)
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target DEPS_GROUP=$(DEPS_GROUP) all unit
	bats --jobs $(TEST_JOBS) --no-parallelize-within-files $(TEST_FILES)

# Further targets, one file per concern (grading, docs, benchmarks, ...).
include $(sort $(wildcard mk/*.mk))
# What they build is part of everything.
all: $(LOAD_BINS) $(GRADE_PROBE) $(TEST_BINS)

clean: ## remove build/
	rm -rf $(BUILD)
