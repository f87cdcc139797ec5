#!/usr/bin/env bats
# Lab 2, send and recv removed: no SIGPIPE, but the server spins on recv()
# returning 0 and never serves anyone else.

# Each test gets a free $PORT and leaves no process (test_helper/labs); the suite builds the labs once.
load 'test_helper/labs'

@test "lab 2: the server survives the client's departure" {
	lab_server 2-send-removed "$PORT"
	lab_client 2-send-removed "$PORT" hello world
	assert_success
	wait_for 5 server_printed world
	alive "$SERVER_PID"
}

@test "lab 2: once the client left, the server burns a CPU" {
	lab_server 2-send-removed "$PORT"
	lab_client 2-send-removed "$PORT" hello world
	spins "$SERVER_PID"
}

@test "lab 2: the server is not blocked in recv: recv returns 0 at once, again and again" {
	lab_server 2-send-removed "$PORT"
	lab_client 2-send-removed "$PORT" hello world
	spawn "$BATS_TEST_TMPDIR/strace.err" strace -p "$SERVER_PID" -e trace=recvfrom -o "$BATS_TEST_TMPDIR/strace.out"
	zero_recvs() { (($(count_lines 'recvfrom(.*) *= 0$' "$BATS_TEST_TMPDIR/strace.out") >= 1000)); }
	wait_for 20 zero_recvs
	assert_equal "$(count_lines 'recvfrom(.*) *= [1-9]' "$BATS_TEST_TMPDIR/strace.out")" 0
}

@test "lab 2: the second client connects but is never served" {
	run "$ROOT/labs/scenario" --port "$PORT" 2-send-removed
	assert_success
	assert_line "verdict: lab=2-send-removed server=spinning client2=hung"
}
