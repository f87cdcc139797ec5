# Walkthroughs: docs/walkthrough-NAME.md for each lab and the solution, the
# prose of docs/walkthroughs/NAME.md.in around the blocks of a real traced
# run (scripts/make-docs says what it makes stable from run to run).
.PHONY: docs

docs: deps $(LAB_BINS) $(SOL_BINS) $(TRACER) ## write docs/walkthrough-*.md: each lab's traced run, explained
	@scripts/make-docs
