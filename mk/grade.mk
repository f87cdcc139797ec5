# Grading students' servers: `make grade SERVER=path/to/server.c` compiles one
# and runs it through the scenarios of build/grade/probe (scripts/grade says
# which and how), both in a sandbox whose first process is build/grade/jail.
# `make grade-all DIR=submissions/` grades a class, in parallel, into a
# gradebook. The tracer is built too: the first scenario in which the server
# is killed by a signal is run again under it, for the evidence.
GRADE_PROBE := $(BUILD)/grade/probe
GRADE_JAIL  := $(BUILD)/grade/jail
GRADE_BINS  := $(GRADE_PROBE) $(GRADE_JAIL)
SERVER ?=
DIR ?=
PROFILE ?= full
FORMAT ?= csv
OUT ?=

.PHONY: grade grade-all

# The probe enters its private network namespace the way the tracer does, and
# escapes what a server wrote as the tracer escapes what a program wrote.
$(GRADE_PROBE): grade/probe.c capture/netns.c capture/netns.h capture/escape.c capture/escape.h lib/die.c lib/die.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE -Icapture $(CFLAGS) -o $@ grade/probe.c capture/netns.c capture/escape.c lib/die.c

# Static: the sandbox holds no libraries of its own.
$(GRADE_JAIL): grade/jail.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) -static -o $@ grade/jail.c

grade: deps $(GRADE_BINS) $(TRACER) ## run a server through every grading scenario: make grade SERVER=path/to/server.c [PROFILE=sigpipe]
	@scripts/grade --profile "$(PROFILE)" $(if $(SERVER),"$(SERVER)")

grade-all: deps $(GRADE_BINS) ## grade a class in parallel into a gradebook: make grade-all DIR=submissions/ [PROFILE=sigpipe] [FORMAT=gradescope] [OUT=dir]
	@scripts/grade-all --profile "$(PROFILE)" --format "$(FORMAT)" $(if $(OUT),--out "$(OUT)") $(if $(DIR),"$(DIR)")

# What grading needs is part of everything.
all: $(GRADE_JAIL)
