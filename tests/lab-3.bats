#!/usr/bin/env bats
# Lab 3, SIGPIPE ignored: no death, but send fails with EPIPE forever and the
# server never serves anyone else.

# Each test gets a free $PORT and leaves no process (test_helper/labs); the suite builds the labs once.
load 'test_helper/labs'

@test "lab 3: the server ignores SIGPIPE" {
	lab_server 3-sig-ign "$PORT"
	mask=$(awk '/^SigIgn:/ { print $2 }' "/proc/$SERVER_PID/status")
	(((16#$mask >> 12) & 1))
}

@test "lab 3: the server survives the client's departure, and burns a CPU" {
	lab_server 3-sig-ign "$PORT"
	lab_client 3-sig-ign "$PORT" hello world
	assert_success
	spins "$SERVER_PID"
	alive "$SERVER_PID"
}

@test "lab 3: each send fails with EPIPE, again and again" {
	lab_server 3-sig-ign "$PORT"
	lab_client 3-sig-ign "$PORT" hello world
	spawn "$BATS_TEST_TMPDIR/strace.err" strace -p "$SERVER_PID" -e trace=sendto -o "$BATS_TEST_TMPDIR/strace.out"
	epipes() { (($(count_lines 'sendto(.*) *= -1 EPIPE' "$BATS_TEST_TMPDIR/strace.out") >= 1000)); }
	wait_for 20 epipes
}

@test "lab 3: the second client connects but is never served" {
	run "$ROOT/labs/scenario" --port "$PORT" 3-sig-ign
	assert_success
	assert_line "verdict: lab=3-sig-ign server=spinning client2=hung"
}
