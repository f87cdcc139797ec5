#!/usr/bin/env bats
# The grader on servers it has never seen: forking, IPv6-only, with a child
# in a session of its own, a hard-coded port; the port it picks; the profiles,
# their points, and Gradescope's format.

bats_require_minimum_version 1.5.0

load 'test_helper/grade'

@test "grade: a server it has never seen, forking a process per client, passes and leaves no child behind" {
	write_forking_server forking inet
	start_in_session "$GRADE" "$BATS_TEST_TMPDIR/forking.c"
	wait_for 120 gone "$LEADER"
	cat "$BATS_TEST_TMPDIR/out" # shown if the test fails
	assert_equal "$(status_of "$LEADER")" 0
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^grade: 12 of 12 scenarios passed'
	wait_for 5 session_empty
	wait_for 5 sandbox_empty "$LEADER"
}

@test "grade: a server listening on IPv6 loopback only (::1) is reached there, and graded like any other" {
	write_forking_server ipv6 inet6
	start_in_session "$GRADE" "$BATS_TEST_TMPDIR/ipv6.c"
	wait_for 120 gone "$LEADER"
	cat "$BATS_TEST_TMPDIR/out" # shown if the test fails
	assert_equal "$(status_of "$LEADER")" 0
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^grade: 12 of 12 scenarios passed'
}

@test "grade: a child that spins in a session of its own is caught: every task the server started is counted" {
	start_in_session "$GRADE" --no-trace --only leaves-normally "$(hostile spin-child)"
	wait_for 60 gone "$LEADER"
	cat "$BATS_TEST_TMPDIR/out" # shown if the test fails
	assert_equal "$(status_of "$LEADER")" 1
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^FAIL leaves-normally: the server spins after a client left normally: runnable (0\.[5-9]|[1-9])[0-9.]* s of every second'
	assert_line --regexp '^    cpu: over [0-9.]+ s its 2 tasks ran'
	wait_for 5 session_empty
	wait_for 5 sandbox_empty "$LEADER"
}

@test "grade: a server that hard-codes its port fails, told the port it was given and the one it took" {
	run timeout 60 "$GRADE" --no-trace --port 23456 --only leaves-normally "$(hostile port4242)"
	assert_failure 1
	assert_line 'FAIL leaves-normally: the server did not listen on port 23456 (its first argument) within 5 s'
	assert_line '    it listens on port 4242 instead: it must take the port from argv[1]'
}

@test "grade: the port is picked by the grader, neither 3333 nor 4242, the same for every scenario of a grading" {
	write_server echo-port <<'EOF2'
#include <stdio.h>
int main(int argc, char *argv[]) { fprintf(stderr, "port=%s\n", argc > 1 ? argv[1] : "none"); return 3; }
EOF2
	run timeout 60 "$GRADE" --no-trace --only leaves-normally --only abort-before-send "$BATS_TEST_TMPDIR/echo-port.c"
	assert_failure 1
	local ports
	ports=$(grep -oE "server's stderr: port=[0-9]+" <<<"$output" | sort -u)
	assert_equal "$(wc -l <<<"$ports")" 1
	[[ ! $ports =~ =(3333|4242)$ ]]
}

# Profiles and points.

@test "grade: the minimal lab 1 fix that docs/answers.md teaches passes --profile sigpipe, 60 of 60 points" {
	run timeout 120 "$GRADE" --no-trace --profile sigpipe "$ROOT/tests/fixtures/grade/lab1-minimal-fix.c"
	assert_success
	assert_line --regexp '^grade: 6 of 6 scenarios passed, 0 failed; 60 of 60 points \(sigpipe profile'
	refute_line --regexp '^FAIL'
}

@test "grade: under --profile full the minimal lab 1 fix fails only what no worksheet asks: long lines and two clients at once" {
	run timeout 120 "$GRADE" --no-trace "$ROOT/tests/fixtures/grade/lab1-minimal-fix.c"
	assert_failure 1
	assert_equal "$(grep -c '^FAIL' <<<"$output")" 3
	assert_line --regexp '^FAIL long-line: '
	assert_line --regexp '^FAIL many-clients: '
	assert_line --regexp '^FAIL second-client: '
	assert_line --regexp '^grade: 9 of 12 scenarios passed, 3 failed; 75 of 90 points \(full profile'
}

@test "grade: --format gradescope prints Gradescope's results.json: a test per scenario with name, score, max_score, output" {
	run --separate-stderr timeout 60 "$GRADE" --no-trace --format gradescope --only leaves-normally --only long-line \
		"$ROOT/labs/4-handler/server.c"
	assert_failure 1
	run jq -r '.score, (.tests[] | [.name, .score, .max_score, (.output | split("\n")[0])] | @tsv)' <<<"$output"
	assert_success
	assert_line --index 0 10
	assert_line --index 1 $'leaves-normally: a client sends a line, reads its done, and closes\t10\t10\tPASS leaves-normally'
	assert_line --index 2 --regexp $'^long-line: .*\t0\t5\tFAIL long-line: '
}
