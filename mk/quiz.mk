# make quiz: predict the verdicts and the next event of the labs' traced runs
# (the committed walkthroughs in docs/), answers read from the terminal, the
# score printed at the end. scripts/quiz --lab N asks about one lab only.

.PHONY: quiz

quiz: ## a quiz on the labs' traced runs: predict each verdict and the next packet or call
	@scripts/quiz
