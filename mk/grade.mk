# Grading a student's server: `make grade SERVER=path/to/server.c` compiles it
# and runs it through every scenario of build/grade/probe (scripts/grade says
# which and how). The tracer is built too: the first scenario in which the
# server is killed by a signal is run again under it, for the evidence.
GRADE_PROBE := $(BUILD)/grade/probe
SERVER ?=

.PHONY: grade

# The probe enters its private network namespace the way the tracer does.
$(GRADE_PROBE): grade/probe.c capture/netns.c capture/netns.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE -Icapture $(CFLAGS) -o $@ grade/probe.c capture/netns.c

grade: deps $(GRADE_PROBE) $(TRACER) ## run a server through every grading scenario: make grade SERVER=path/to/server.c
	@scripts/grade $(if $(SERVER),"$(SERVER)")
