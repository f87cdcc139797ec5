#!/usr/bin/env bats
# make quiz: questions made from the committed walkthroughs, answers read
# from standard input, the score printed; nothing from a trace reaches the
# terminal unescaped.

load 'test_helper/common'

QUIZ=$ROOT/scripts/quiz

# The questions' count: one answer a question in the key.
question_count() { "$QUIZ" "$@" --key | wc -l; }

@test "quiz: the key's answers score full marks" {
	total=$(question_count)
	# two on the verdict and two on the next event, for each lab with a walkthrough
	labs=$(compgen -G "$ROOT/docs/walkthrough-[0-9]*-*.md" | wc -l)
	assert_equal "$total" $((4 * labs))
	run "$QUIZ" < <("$QUIZ" --key)
	assert_success
	assert_line "score: $total/$total"
	refute_line --partial "Not quite"
}

@test "quiz: wrong, empty and missing answers score nothing, and each gets the right answer" {
	total=$(question_count --lab 1)
	run "$QUIZ" --lab 1 < <(printf '9\n\nnot a number\n')
	assert_success
	assert_line "score: 0/$total"
	assert_equal "$(grep -c '^Not quite: the answer is [0-9])' <<<"$output")" "$total"
}

@test "quiz: one right answer out of four is a score of 1/4" {
	mapfile -t key < <("$QUIZ" --lab 1 --key)
	assert_equal "${#key[@]}" 4
	wrong() { echo $(($1 % 4 + 1)); }
	run "$QUIZ" --lab 1 < <(printf '%s\n' "${key[0]}" "$(wrong "${key[1]}")" "$(wrong "${key[2]}")" "$(wrong "${key[3]}")")
	assert_line "score: 1/4"
}

@test "quiz: lab 1's questions are the verdict of its committed run: killed by SIGPIPE, client 2 refused" {
	mapfile -t key < <("$QUIZ" --lab 1 --key)
	run "$QUIZ" --lab 1 </dev/null
	# The choice the key names for question 1, as printed under it.
	first=$(awk '/^Question 1 of/ { f = 1 } f && /^  [0-9]\) / { print; n++ } n == 4 { exit }' <<<"$output" | sed -n "${key[0]}p")
	assert_equal "$first" "  ${key[0]}) killed-by-SIGPIPE"
	second=$(awk '/^Question 2 of/ { f = 1 } f && /^  [0-9]\) / { print; n++ } n == 3 { exit }' <<<"$output" | sed -n "${key[1]}p")
	assert_equal "$second" "  ${key[1]}) refused"
	# The next-event questions stop before the RST and before the signal.
	assert_output --partial "client→server  RST seq 14"
	assert_output --partial "server  SIGPIPE (default: terminate)"
}

@test "quiz: control bytes in a trace are printed escaped, never raw" {
	kit=$BATS_TEST_TMPDIR/kit
	mkdir -p "$kit/scripts" "$kit/docs" "$kit/labs/1-naive"
	cp "$QUIZ" "$kit/scripts/"
	cp "$ROOT/labs/1-naive/server.c" "$kit/labs/1-naive/"
	# A walkthrough whose traced program sent an escape sequence and a bell.
	sed 's/"done\\n"/"\x1b[2J\x07\xc2\x9bdone"/g' \
		"$ROOT/docs/walkthrough-1-naive.md" >"$kit/docs/walkthrough-1-naive.md"
	grep -q $'\x1b\\[2J' "$kit/docs/walkthrough-1-naive.md"
	run "$kit/scripts/quiz" --lab 1 </dev/null
	assert_success
	assert_output --partial 'send(4, "\x1b[2J\x07\u009bdone", 5) = 5'
	run bash -c '"$1" --lab 1 </dev/null | LC_ALL=C grep -c "[[:cntrl:]]" || true' bash "$kit/scripts/quiz"
	assert_output 0
}

@test "quiz: a usage error exits 2, and a kit without walkthroughs says what makes them" {
	run "$QUIZ" --lab x
	assert_failure 2
	assert_output --partial "usage: quiz"
	mkdir -p "$BATS_TEST_TMPDIR/kit/scripts" "$BATS_TEST_TMPDIR/kit/docs"
	cp "$QUIZ" "$BATS_TEST_TMPDIR/kit/scripts/"
	run "$BATS_TEST_TMPDIR/kit/scripts/quiz"
	assert_failure 1
	assert_output --partial "make docs writes them"
}

@test "quiz: make help lists make quiz" {
	run make -C "$ROOT" --no-print-directory help
	assert_line --partial "make quiz"
}
