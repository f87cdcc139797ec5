# Memory and undefined-behaviour checks for the tracer and the solution.
#
#   make sanitize   builds build/asan/sigtrace and build/asan/solution/{server,client}
#                   with AddressSanitizer (leaks included) and UBSan, runs the
#                   tracer's tests against the sanitized tracer, and the solution's
#                   scenario with the sanitized server; any report fails the target
#   make valgrind   runs the normal build of the tracer under valgrind: on every
#                   capture fixture, and live on lab 1's scenario
#
# Reports go to build/asan/logs/ (one file per process that found something),
# because a traced or backgrounded process's stderr may be nobody's terminal.

ASAN_DIR   := $(BUILD)/asan
ASAN_LOGS  := $(ASAN_DIR)/logs
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
ASAN_BINS  := $(ASAN_DIR)/sigtrace $(ASAN_DIR)/solution/server $(ASAN_DIR)/solution/client
# Exported to everything the targets run, so the sanitized programs find them.
ASAN_ENV   := ASAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_LOGS)/asan:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_LOGS)/ubsan:print_stacktrace=1:halt_on_error=1
VALGRIND   := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect

.PHONY: sanitize valgrind

$(ASAN_DIR)/sigtrace: $(TR_SRCS) $(TR_HDRS)
	$(call link_tracer,$(ASAN_FLAGS))

$(ASAN_DIR)/solution/%: solution/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(ASAN_FLAGS) -o $@ $<

sanitize: deps $(ASAN_BINS) $(LAB_BINS) $(SOL_BINS) $(TRACER) ## build the tracer and the solution with ASan+UBSan (build/asan/) and run the tracer's tests and the solution's scenario with them
	@rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	$(ASAN_ENV) SIGTRACE=$(CURDIR)/$(ASAN_DIR)/sigtrace bats tests/offline.bats tests/sigtrace.bats
	$(ASAN_ENV) labs/scenario --bin-dir $(ASAN_DIR)/solution solution | tee $(ASAN_LOGS)/../solution.out
	@grep -qx 'verdict: lab=solution server=alive client2=served' $(ASAN_LOGS)/../solution.out
	@if ls $(ASAN_LOGS)/* >/dev/null 2>&1; then \
		echo "sanitize: reports in $(ASAN_LOGS):" >&2; cat $(ASAN_LOGS)/* >&2; exit 1; \
	fi
	@echo "sanitize: no reports"

valgrind: deps $(LAB_BINS) $(TRACER) ## run the tracer under valgrind on every capture fixture and on lab 1's scenario; any error fails
	@for f in tests/fixtures/*.pcap*; do \
		status=0; $(VALGRIND) $(TRACER) -r "$$f" --json >/dev/null || status=$$?; \
		if [ $$status -eq 99 ]; then echo "valgrind: errors on $$f" >&2; exit 1; fi; \
		echo "valgrind: $$f: clean (sigtrace exit $$status)"; \
	done
	@status=0; $(VALGRIND) $(TRACER) --netns -o $(BUILD)/valgrind.jsonl -- labs/scenario 1-naive >/dev/null || status=$$?; \
		if [ $$status -ne 0 ]; then echo "valgrind: the live run of lab 1 ended with $$status" >&2; exit 1; fi
	@echo "valgrind: live run of lab 1: clean"
