# The load generator, the capture generator, and `make bench`: how fast the
# tracer reads captures next to tcpdump and tshark, what tracing costs each
# lab, and how much the solution serves. scripts/bench writes docs/perf.md.
# build/pcaploop, libpcap reading a capture and doing nothing, is the floor
# the tracer's --summary is measured against.

PLAIN_LOAD_BINS := $(BUILD)/loadgen $(BUILD)/gencap $(BUILD)/pingpong
LOAD_BINS := $(PLAIN_LOAD_BINS) $(BUILD)/pcaploop
BENCH_RUNS ?= 5
BENCH_OFFLINE_RUNS ?= 3
BENCH_SCENARIO_RUNS ?= 1
.PHONY: loadgen bench

$(PLAIN_LOAD_BINS): $(BUILD)/%: load/%.c lib/die.c lib/die.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $< lib/die.c

$(BUILD)/pcaploop: load/pcaploop.c lib/die.c lib/die.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) $$(pkg-config --cflags libpcap) -o $@ $< lib/die.c \
		$$(pkg-config --libs libpcap)

loadgen: deps $(LOAD_BINS) ## build the load generator (build/loadgen), the capture generator (build/gencap) and the bare capture reader (build/pcaploop)

bench: deps $(LAB_BINS) $(SOL_BINS) $(TRACER) $(LOAD_BINS) ## measure the tracer, the labs under it and the solution under load; writes docs/perf.md
	scripts/bench --runs $(BENCH_RUNS) --offline-runs $(BENCH_OFFLINE_RUNS) --scenario-runs $(BENCH_SCENARIO_RUNS)
