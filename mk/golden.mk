# Golden files: tests/golden/TESTLIST lists the cases (every capture fixture in
# every output mode, every lab's traced run); tests/golden.bats compares them.
.PHONY: golden

golden: deps $(LAB_BINS) $(SOL_BINS) $(TRACER) ## write the golden files anew (tests/golden/expected/, docs/walkthrough-*.md): review the diff, commit it alone
	@scripts/golden --update
