# sigpipe-lab: one entry point. `make help` lists the targets.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror
CPPFLAGS += -D_DEFAULT_SOURCE
BUILD    := build
LABS     := $(notdir $(wildcard labs/[0-9]*))
LAB_BINS := $(foreach l,$(LABS),$(BUILD)/labs/$(l)/server $(BUILD)/labs/$(l)/client)
SOL_BINS := $(BUILD)/solution/server $(BUILD)/solution/client

.PHONY: all help deps test clean solution $(addprefix lab-,$(firstword $(subst -, ,$(LABS))))

all: deps $(LAB_BINS) $(SOL_BINS) ## build everything into build/

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | \
		sed -E 's/^([^:]+):.*## (.*)/  make \1\t\2/' | expand -t 24

deps: ## check the tools and libraries the kit needs, installing any that are missing
	@scripts/install-deps --check-or-install

$(BUILD)/labs/%/server: labs/%/server.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $<

$(BUILD)/labs/%/client: labs/%/client.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $<

$(BUILD)/solution/%: solution/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $<

lab-%: deps $(LAB_BINS) ## lab-1 .. lab-4: build and run lab N's scenario, and explain it
	@lab=$$(cd labs && ls -d $*-* 2>/dev/null | head -n 1); \
	if [ -z "$$lab" ]; then echo "make: there is no lab $* (labs: $(LABS))" >&2; exit 2; fi; \
	labs/scenario "$$lab"

solution: deps $(SOL_BINS) ## build and run the correct server through the same scenario
	@labs/scenario solution

# Fuzzing: clang's libFuzzer with AddressSanitizer and UBSan on the code that
# reads untrusted bytes, seeded with the capture fixtures (as classic pcap, the
# target's input format). Crashes land in build/fuzz/ as crash-* files.
FUZZ_TIME ?= 60
FUZZ_SRCS := capture/fuzz_decode.c capture/decode.c capture/conn.c capture/pcapng.c
.PHONY: fuzz

$(BUILD)/fuzz/fuzz_decode: $(FUZZ_SRCS) capture/decode.h capture/conn.h capture/pcapng.h
	@mkdir -p $(@D)
	clang $(WARN) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o $@ $(FUZZ_SRCS)

fuzz: deps $(BUILD)/fuzz/fuzz_decode ## fuzz the packet decoder and connection tracker for FUZZ_TIME seconds (60)
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/seeds
	@for f in tests/fixtures/*.pcap*; do \
		editcap -F nsecpcap "$$f" "$(BUILD)/fuzz/seeds/$${f##*/}.pcap" >/dev/null 2>&1 || true; \
	done
	$(BUILD)/fuzz/fuzz_decode -max_total_time=$(FUZZ_TIME) -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus $(BUILD)/fuzz/seeds

test: all ## run the whole test suite (bats)
	bats tests

clean: ## remove build/
	rm -rf $(BUILD)
