#!/usr/bin/env bats
# Lab 7, SIG_IGN inherited across exec: lab 1's server, started by a parent
# that ignores SIGPIPE, survives its client and spins instead of dying.

# Each test gets a free $PORT and leaves no process (test_helper/labs); the suite builds the labs once.
load 'test_helper/labs'

# sigpipe_ignored PID: PID has SIGPIPE (13) ignored.
sigpipe_ignored() {
	local mask
	mask=$(awk '/^SigIgn:/ { print $2 }' "/proc/$1/status")
	(((16#$mask >> 12) & 1))
}

@test "lab 7: the server is lab 1's, unchanged below its header comment" {
	body() { sed -n '/^#include/,$p' "$ROOT/labs/$1/server.c"; }
	assert_equal "$(body 7-inherited-ign)" "$(body 1-naive)"
}

@test "lab 7: with the default disposition the server dies of SIGPIPE, as lab 1's does" {
	lab_server 7-inherited-ign "$PORT"
	run sigpipe_ignored "$SERVER_PID"
	assert_failure
	lab_client 7-inherited-ign "$PORT" hello world
	assert_success
	wait_for 5 gone "$SERVER_PID"
	assert_equal "$(exit_status "$SERVER_PID")" 141
}

@test "lab 7: started by a parent that ignores SIGPIPE, the server inherits SIG_IGN and survives" {
	# The parent ignores SIGPIPE and execs the server: nothing in the server asks for it.
	serve "$PORT" bash -c 'trap "" PIPE; exec "$@"' bash "$BUILD/labs/7-inherited-ign/server"
	sigpipe_ignored "$SERVER_PID"
	lab_client 7-inherited-ign "$PORT" hello world
	assert_success
	spawn "$BATS_TEST_TMPDIR/strace.err" strace -p "$SERVER_PID" -e trace=sendto -o "$BATS_TEST_TMPDIR/strace.out"
	# Each failed send still reports SIGPIPE to the tracer; the process
	# ignores it, and sends again.
	failed_sends() { (($(count_lines 'sendto(.*) *= -1 EPIPE' "$BATS_TEST_TMPDIR/strace.out") >= 100)); }
	wait_for 20 failed_sends
	alive "$SERVER_PID"
}

# sigpipe_pending PID: a SIGPIPE is pending for PID, raised and not delivered.
sigpipe_pending() {
	local mask
	mask=$(awk '/^SigPnd:/ { print $2 }' "/proc/$1/status")
	(((16#$mask >> 12) & 1))
}

@test "lab 7: started with SIGPIPE blocked, lab 1's server keeps it pending, survives and spins" {
	# The mask, like SIG_IGN, is inherited across exec: nothing in the server asks for it.
	serve "$PORT" env --block-signal=PIPE "$BUILD/labs/1-naive/server"
	run sigpipe_ignored "$SERVER_PID"
	assert_failure
	lab_client 1-naive "$PORT" hello world
	assert_success
	wait_for 10 sigpipe_pending "$SERVER_PID"
	spins "$SERVER_PID"
	alive "$SERVER_PID"
	# env --default-signal unblocks it as well: the way the scenario starts every lab.
	# shellcheck disable=SC2016 # awk's $2
	run env --block-signal=PIPE env --default-signal=PIPE awk '/^SigBlk:/ { print $2 }' /proc/self/status
	assert_output 0000000000000000
}

@test "lab 7: the scenario hands the server SIG_IGN, and the server spins and never serves client 2" {
	run "$ROOT/labs/scenario" --port "$PORT" 7-inherited-ign
	assert_success
	assert_line --partial "asks for SIGPIPE ignored"
	assert_line "verdict: lab=7-inherited-ign server=spinning client2=hung"
}

@test "lab 7: a scenario.conf setting the scenario does not know is an error naming the file and line" {
	mkdir -p "$BATS_TEST_TMPDIR/kit/labs/9-bad"
	cp "$ROOT/labs/scenario" "$BATS_TEST_TMPDIR/kit/labs/"
	printf '# a comment\nsigpipe=sometimes\n' >"$BATS_TEST_TMPDIR/kit/labs/9-bad/scenario.conf"
	run "$BATS_TEST_TMPDIR/kit/labs/scenario" --port "$PORT" --bin-dir "$BUILD/labs/1-naive" 9-bad
	assert_failure 1
	assert_output --partial "9-bad/scenario.conf:2: sigpipe=sometimes: give sigpipe=default or sigpipe=ignore"
	printf 'clients=3\n' >"$BATS_TEST_TMPDIR/kit/labs/9-bad/scenario.conf"
	run "$BATS_TEST_TMPDIR/kit/labs/scenario" --port "$PORT" --bin-dir "$BUILD/labs/1-naive" 9-bad
	assert_failure 1
	assert_output --partial "9-bad/scenario.conf:1: not a setting: 'clients=3'"
}
