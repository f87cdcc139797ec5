#!/usr/bin/env bats
# labs/scenario itself: its arguments, its --kill variant, runs side by side,
# and the promise that nothing it starts outlives it.

# Each test gets a free $PORT and leaves no process (test_helper/labs); the suite builds the labs once.
bats_require_minimum_version 1.5.0
load 'test_helper/labs'

SCENARIO=$ROOT/labs/scenario

@test "scenario: no name, an unknown option or a stray argument is a usage error (exit 2)" {
	run "$SCENARIO"
	assert_failure 2
	assert_output --partial 'usage: scenario'
	run "$SCENARIO" --bogus 1-naive
	assert_failure 2
	assert_output --partial 'unknown option: --bogus'
	run "$SCENARIO" 1-naive 2-send-removed
	assert_failure 2
}

@test "scenario: a bad port, a bad pause or an unbuilt lab is named, with the way out (exit 1)" {
	run "$SCENARIO" --port 70000 1-naive
	assert_failure 1
	assert_output --partial "bad port '70000'"
	run "$SCENARIO" --pause soon 1-naive
	assert_failure 1
	assert_output --partial "bad pause 'soon'"
	run "$SCENARIO" no-such-lab
	assert_failure 1
	assert_output --partial 'build it first: make'
}

@test "scenario: with client 1 killed by SIGKILL, lab 1's server dies of SIGPIPE all the same" {
	run --separate-stderr "$SCENARIO" --kill --port "$PORT" 1-naive
	assert_success
	assert_line "verdict: lab=1-naive server=killed-by-SIGPIPE client2=refused"
	assert_line "client 1 sent 2 lines, got 2 replies, and was killed with SIGKILL [signal SIGKILL]"
	# The scenario says how client 1 ended; bash's own report of the job it
	# killed ("labs/scenario: line N: PID Killed ...") is not printed too.
	# shellcheck disable=SC2154 # run --separate-stderr sets $stderr
	assert_equal "$stderr" ""
}

@test "scenario: a second run while the first holds the default port picks another, and both finish" {
	# The first run holds its port through a long pause; the second starts
	# once the first's server listens, so the two surely overlap.
	spawn "$BATS_TEST_TMPDIR/a.out" "$SCENARIO" --pause 4 4-handler </dev/null
	a=$BG_PID
	wait_for 10 grep -q '^scenario: .* on port ' "$BATS_TEST_TMPDIR/a.out"
	spawn "$BATS_TEST_TMPDIR/b.out" "$SCENARIO" solution </dev/null
	b=$BG_PID
	wait_for 30 gone "$a"
	wait_for 30 gone "$b"
	assert_equal "$(exit_status "$a")" 0
	assert_equal "$(exit_status "$b")" 0
	run grep -h '^verdict: ' "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out"
	assert_line "verdict: lab=4-handler server=alive client2=served"
	assert_line "verdict: lab=solution server=alive client2=served"
	run grep -ho 'on port [0-9]*' "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out"
	assert_equal "${#lines[@]}" 2
	[[ ${lines[0]} != "${lines[1]}" ]]
}

# The pid of the server a scenario started, from its first line.
scenario_server_pid() {
	sed -nE 's/^scenario: .* \(pid ([0-9]+)\)$/\1/p' "$1"
}
has_server_pid() { [[ -n $(scenario_server_pid "$1") ]]; }

@test "scenario: interrupted by Ctrl-C (SIGINT), it exits 130 and leaves no process behind" {
	# A background job of a script starts with SIGINT ignored; give it back.
	spawn "$BATS_TEST_TMPDIR/out" env --default-signal=INT "$SCENARIO" --pause 30 --port "$PORT" 4-handler </dev/null
	scenario=$BG_PID
	wait_for 10 has_server_pid "$BATS_TEST_TMPDIR/out"
	server=$(scenario_server_pid "$BATS_TEST_TMPDIR/out")
	wait_for 10 grep -q '^client 1 ' "$BATS_TEST_TMPDIR/out"
	alive "$server"
	# Ctrl-C in the pause, as a student presses it while the server is watched.
	wait_for 10 pgrep -P "$scenario" -x sleep
	kill -INT "$scenario"
	wait_for 10 gone "$scenario"
	assert_equal "$(exit_status "$scenario")" 130
	wait_for 5 gone "$server"
	refute listening "$PORT"
	run run_processes
	assert_output ''
}

@test "scenario: stopped by SIGTERM, it exits 143 and leaves no process behind" {
	spawn "$BATS_TEST_TMPDIR/out" "$SCENARIO" --pause 30 --port "$PORT" 3-sig-ign </dev/null
	scenario=$BG_PID
	wait_for 10 grep -q '^client 1 ' "$BATS_TEST_TMPDIR/out"
	server=$(scenario_server_pid "$BATS_TEST_TMPDIR/out")
	alive "$server"
	# In the pause (bash 5.2 can fail with a syntax error, and exit 1 or 2
	# after its cleanup, when a trap runs while it parses a command substitution).
	wait_for 10 pgrep -P "$scenario" -x sleep
	kill -TERM "$scenario"
	wait_for 10 gone "$scenario"
	assert_equal "$(exit_status "$scenario")" 143
	wait_for 5 gone "$server"
	run run_processes
	assert_output ''
}

@test "scenario: a spinning server nobody traces is not said to be slowed by a tracer" {
	run "$SCENARIO" --port "$PORT" 3-sig-ign
	assert_success
	assert_line "verdict: lab=3-sig-ign server=spinning client2=hung"
	refute_output --partial "slowed by a tracer"
}
