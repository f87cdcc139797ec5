# Unit tests: a small C program per pure module of the tracer (tests/unit/NAME.c),
# built with ASan and UBSan against the module's sources and run by `make test`.
# Each prints its failures and the closing line "N passed, N failed".

UNIT_DIR   := $(BUILD)/unit
UNIT_TESTS := $(basename $(notdir $(wildcard tests/unit/*.c)))
# The tracer's sources each test program links: the module and what it needs.
unit_srcs_escape   := capture/escape.c
unit_srcs_notebuf  := capture/notebuf.c
unit_srcs_decode   := capture/decode.c capture/decode_tunnel.c capture/vocab.c
unit_srcs_tcp      := capture/tcp.c capture/tcp_table.c capture/zeek.c capture/zeek_gaps.c capture/event.c capture/decode.c capture/decode_tunnel.c capture/vocab.c
unit_srcs_timeline := capture/timeline.c capture/repeats.c capture/event.c capture/decode.c capture/decode_tunnel.c capture/vocab.c
unit_srcs_story    := capture/story.c capture/event.c capture/decode.c capture/decode_tunnel.c capture/vocab.c

.PHONY: unit
.SECONDEXPANSION:

$(UNIT_DIR)/%: tests/unit/%.c tests/unit/check.h $$(unit_srcs_%) $(TR_HDRS)
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-o $@ $< $(unit_srcs_$*)

unit: $(addprefix $(UNIT_DIR)/,$(UNIT_TESTS)) ## build and run the tracer's unit tests (tests/unit/)
	@failed=0; for t in $(UNIT_TESTS); do \
		printf '%-10s ' "$$t:"; $(UNIT_DIR)/$$t || failed=1; \
	done; exit $$failed
