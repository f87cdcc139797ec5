#!/usr/bin/env bats
# A class graded at once (scripts/grade-all): a gradebook, a report per
# student, and the verdicts each would get alone.

bats_require_minimum_version 1.5.0

load 'test_helper/grade'

# class STUDENT=SOURCE...: a directory of submissions, $BATS_TEST_TMPDIR/class,
# each STUDENT's a copy of SOURCE (a .c file, or a directory).
class() {
	local pair
	mkdir -p "$BATS_TEST_TMPDIR/class"
	for pair in "$@"; do
		cp -r "${pair#*=}" "$BATS_TEST_TMPDIR/class/${pair%%=*}$([[ -d ${pair#*=} ]] || echo .c)"
	done
}

@test "grade-all: a class in parallel: a CSV gradebook, a report per student, and the verdicts each gets alone" {
	write_server broken <<'EOF2'
int main(void) { return undeclared_thing; }
EOF2
	class alice="$ROOT/labs/1-naive/server.c" bob="$ROOT/tests/fixtures/grade/lab1-minimal-fix.c" \
		carol="$(hostile zombies)" dave="$BATS_TEST_TMPDIR/broken.c"
	run timeout 300 "$ROOT/scripts/grade-all" --profile sigpipe --no-trace --out "$BATS_TEST_TMPDIR/grades" \
		"$BATS_TEST_TMPDIR/class"
	assert_success
	run cat "$BATS_TEST_TMPDIR/grades/gradebook.csv"
	assert_line --index 0 'student,total,maximum,leaves-normally,leaves-mid-reply,client-killed,unread-reply-rst,abort-before-send,abort-after-send'
	assert_line --index 1 'alice,0,60,0,0,0,0,0,0'
	assert_line --index 2 'bob,60,60,10,10,10,10,10,10'
	assert_line --index 3 'carol,60,60,10,10,10,10,10,10'
	assert_line --index 4 'dave,0,60,0,0,0,0,0,0'
	assert_file_exist "$BATS_TEST_TMPDIR/grades/reports/carol.txt"
	run grep -h '^grade: ' "$BATS_TEST_TMPDIR/grades/reports/alice.txt" "$BATS_TEST_TMPDIR/grades/reports/dave.txt"
	assert_line --regexp '^grade: 0 of 6 scenarios passed, 6 failed; 0 of 60 points'
	assert_line --regexp 'does not compile'
	# Alone, bob gets what the gradebook says.
	run timeout 120 "$GRADE" --no-trace --profile sigpipe "$BATS_TEST_TMPDIR/class/bob.c"
	assert_line --regexp '^grade: 6 of 6 scenarios passed, 0 failed; 60 of 60 points'
}

@test "grade-all --format gradescope: a results.json per student, a compile error included" {
	write_server broken <<'EOF2'
int main(void) { return undeclared_thing; }
EOF2
	class ann="$ROOT/solution" ben="$BATS_TEST_TMPDIR/broken.c"
	run timeout 300 "$ROOT/scripts/grade-all" --format gradescope --only leaves-normally --no-trace \
		--out "$BATS_TEST_TMPDIR/grades" "$BATS_TEST_TMPDIR/class"
	assert_success
	run jq -c '[.score, [.tests[] | [.name, .score, .max_score]]]' "$BATS_TEST_TMPDIR/grades/results/ann/results.json"
	assert_output '[10,[["leaves-normally: a client sends a line, reads its done, and closes",10,10]]]'
	run jq -r '.score, .output' "$BATS_TEST_TMPDIR/grades/results/ben/results.json"
	assert_line --index 0 0
	assert_output --partial 'undeclared_thing'
}

@test "grade-all: eight spinning servers graded at once all fail, whatever the load they make" {
	local i pairs=()
	for i in 1 2 3 4 5 6 7 8; do pairs+=("spinner$i=$ROOT/labs/3-sig-ign/server.c"); done
	class "${pairs[@]}"
	run timeout 300 "$ROOT/scripts/grade-all" --jobs 8 --only leaves-normally --no-trace \
		--out "$BATS_TEST_TMPDIR/grades" "$BATS_TEST_TMPDIR/class"
	assert_success
	run cat "$BATS_TEST_TMPDIR/grades/gradebook.csv"
	for i in 1 2 3 4 5 6 7 8; do
		assert_line "spinner$i,0,10,0"
	done
	run grep -c '^FAIL leaves-normally: .*the server spins after a client left normally' \
		"$BATS_TEST_TMPDIR"/grades/reports/spinner*.txt
	refute_output --regexp ':0$'
}

@test "grade-all: without DIR, make grade-all says how to name one" {
	run timeout 30 make -C "$ROOT" --no-print-directory grade-all
	assert_equal "$status" 2
	assert_output --partial 'grade-all: which class? give the directory of submissions: make grade-all DIR=submissions/'
}
