# The load generator, the capture generator, and `make bench`: how fast the
# tracer reads captures next to tcpdump and tshark, what tracing costs each
# lab, and how much the solution serves. scripts/bench writes docs/perf.md.

LOAD_BINS := $(BUILD)/loadgen $(BUILD)/gencap $(BUILD)/pingpong
BENCH_RUNS ?= 5
BENCH_OFFLINE_RUNS ?= 3
BENCH_SCENARIO_RUNS ?= 1
.PHONY: loadgen bench

$(LOAD_BINS): $(BUILD)/%: load/%.c lib/die.c lib/die.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $< lib/die.c

loadgen: deps $(LOAD_BINS) ## build the load generator (build/loadgen) and the capture generator (build/gencap)

bench: deps $(LAB_BINS) $(SOL_BINS) $(TRACER) $(LOAD_BINS) ## measure the tracer, the labs under it and the solution under load; writes docs/perf.md
	scripts/bench --runs $(BENCH_RUNS) --offline-runs $(BENCH_OFFLINE_RUNS) --scenario-runs $(BENCH_SCENARIO_RUNS)
