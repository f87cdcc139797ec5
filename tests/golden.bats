#!/usr/bin/env bats
# Golden files: what the tracer prints for every capture fixture in every output
# mode, and what each lab's traced run shows (its walkthrough in docs/), compared
# with the files in tests/golden/ and docs/. The cases are tests/golden/TESTLIST;
# scripts/golden runs them; `make golden` writes them anew, to be reviewed as a diff.


setup() { load 'test_helper/common'; }

teardown() { teardown_processes; }

# golden PATTERN: the cases matching PATTERN give their golden output.
golden() {
	run "$ROOT/scripts/golden" "$1"
	assert_success
	assert_output --regexp 'golden: [0-9]+ cases match$'
}

@test "golden: every fixture is a case in every mode, and every lab and the solution a live case" {
	local f name mode dir wanted=()
	run "$ROOT/scripts/golden" --list
	assert_success
	for f in "$ROOT"/tests/fixtures/*.pcap*; do
		name=${f##*/}
		name=${name%%.*}
		for mode in text json ladder comments; do
			wanted+=("$name.$mode")
		done
	done
	for dir in "$ROOT"/labs/[0-9]*/ solution; do
		name=${dir%/}
		wanted+=("live-${name##*/}")
		assert_file_exists "$ROOT/docs/walkthroughs/${name##*/}.md.in"
	done
	# The cases wanted that the list lacks (one comparison: assert_line a case
	# would read the whole list again for each of them).
	run comm -23 <(printf '%s\n' "${wanted[@]}" | sort -u) <(sort -u <<<"$output")
	assert_success
	assert_output ""
}

@test "golden: a case whose output changed fails with the diff and what to do" {
	local copy=$BATS_TEST_TMPDIR/tree
	mkdir -p "$copy/scripts" "$copy/tests"
	cp "$ROOT/scripts/golden" "$copy/scripts/"
	cp -r "$ROOT/tests/golden" "$ROOT/tests/fixtures" "$copy/tests/"
	sed -i '1s/.*/  9.999999  a line that the tracer never printed/' "$copy/tests/golden/expected/orderly.txt"
	SIGTRACE=$BUILD/sigtrace run "$copy/scripts/golden" '^orderly\.text$'
	assert_failure 1
	assert_output --partial '+  0.000000  client→server     SYN seq 0'
	assert_output --partial '-  9.999999  a line that the tracer never printed'
	assert_output --partial 'orderly.text differs from tests/golden/expected/orderly.txt (if the change is meant: make golden'
}

# Fixtures, read with sigtrace -r
@test "golden: every fixture's text timeline" { golden '\.text$'; }
@test "golden: every fixture's JSON events" { golden '\.json$'; }
@test "golden: every fixture's ladder" { golden '\.ladder$'; }
@test "golden: every fixture's pcapng comments, read back by capinfos and tshark" { golden '\.comments$'; }
@test "golden: a few fixtures' diagrams, as SVG and as a page" { golden '\.(svg|html)$'; }

# Live runs, as scripts/make-docs normalises them into the walkthroughs
@test "walkthroughs: a name with no template is an error that says what to write" {
	run "$ROOT/scripts/make-docs" --out "$BATS_TEST_TMPDIR" 9-nonesuch
	assert_failure 1
	assert_output --partial "no template docs/walkthroughs/9-nonesuch.md.in"
	assert_file_not_exists "$BATS_TEST_TMPDIR/walkthrough-9-nonesuch.md"
}

@test "golden: lab 1's traced run is docs/walkthrough-1-naive.md" { golden '^live-1-naive$'; }
@test "golden: lab 2's traced run is docs/walkthrough-2-send-removed.md" { golden '^live-2-send-removed$'; }
@test "golden: lab 3's traced run is docs/walkthrough-3-sig-ign.md" { golden '^live-3-sig-ign$'; }
@test "golden: lab 4's traced run is docs/walkthrough-4-handler.md" { golden '^live-4-handler$'; }
@test "golden: lab 5's traced run is docs/walkthrough-5-unread-close.md" { golden '^live-5-unread-close$'; }
@test "golden: lab 6's traced run is docs/walkthrough-6-client-side.md" { golden '^live-6-client-side$'; }
@test "golden: lab 7's traced run is docs/walkthrough-7-inherited-ign.md" { golden '^live-7-inherited-ign$'; }
@test "golden: lab 8's traced run is docs/walkthrough-8-neighbours.md" { golden '^live-8-neighbours$'; }
@test "golden: the solution's traced run is docs/walkthrough-solution.md" { golden '^live-solution$'; }
