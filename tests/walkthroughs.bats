#!/usr/bin/env bats
# The walkthroughs in docs/ are what scripts/make-docs writes from a traced
# run today: when a lab, the scenario or the tracer changes what a run shows,
# these tests fail with the difference, and `make docs` brings them up to date.

load 'test_helper/common'

setup_file() { make -C "$BATS_TEST_DIRNAME/.." --no-print-directory -s labs "$BUILD/sigtrace" "$BUILD/solution/server" "$BUILD/solution/client" >&2; }

# up_to_date NAME: regenerate NAME's walkthrough into a temporary directory
# and compare it with the committed one.
up_to_date() {
	local committed=$ROOT/docs/walkthrough-$1.md fresh=$BATS_TEST_TMPDIR/walkthrough-$1.md
	assert_file_exists "$committed"
	run timeout 300 "$ROOT/scripts/make-docs" --out "$BATS_TEST_TMPDIR" "$1"
	assert_success
	if ! diff -u "$committed" "$fresh" >"$BATS_TEST_TMPDIR/diff"; then
		echo "docs/walkthrough-$1.md is not what the kit writes today: run make docs, check the prose in docs/walkthroughs/$1.md.in still fits, and commit both" >&2
		cat "$BATS_TEST_TMPDIR/diff" >&2
		return 1
	fi
}

@test "walkthroughs: every lab and the solution has its prose template and its walkthrough" {
	local dir name
	for dir in "$ROOT"/labs/[0-9]*/ solution; do
		name=${dir%/}
		name=${name##*/}
		assert_file_exists "$ROOT/docs/walkthroughs/$name.md.in"
		assert_file_exists "$ROOT/docs/walkthrough-$name.md"
	done
}

@test "walkthroughs: a name with no template is an error that says what to write" {
	run "$ROOT/scripts/make-docs" --out "$BATS_TEST_TMPDIR" 9-nonesuch
	assert_failure 1
	assert_output --partial "no template docs/walkthroughs/9-nonesuch.md.in"
	assert_file_not_exists "$BATS_TEST_TMPDIR/walkthrough-9-nonesuch.md"
}

@test "walkthrough 1-naive is up to date (else: make docs)" { up_to_date 1-naive; }
@test "walkthrough 2-send-removed is up to date (else: make docs)" { up_to_date 2-send-removed; }
@test "walkthrough 3-sig-ign is up to date (else: make docs)" { up_to_date 3-sig-ign; }
@test "walkthrough 4-handler is up to date (else: make docs)" { up_to_date 4-handler; }
@test "walkthrough 5-unread-close is up to date (else: make docs)" { up_to_date 5-unread-close; }
@test "walkthrough 6-client-side is up to date (else: make docs)" { up_to_date 6-client-side; }
@test "walkthrough 7-inherited-ign is up to date (else: make docs)" { up_to_date 7-inherited-ign; }
@test "walkthrough 8-neighbours is up to date (else: make docs)" { up_to_date 8-neighbours; }
@test "walkthrough solution is up to date (else: make docs)" { up_to_date solution; }
