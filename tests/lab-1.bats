#!/usr/bin/env bats
# Lab 1, the naive server: it dies of SIGPIPE once its client leaves.

# Each test gets a free $PORT and leaves no process (test_helper/labs); the suite builds the labs once.
load 'test_helper/labs'

@test "lab 1: the server answers each line with done" {
	lab_server 1-naive "$PORT"
	lab_client 1-naive "$PORT" hello world
	assert_success
	assert_equal "$(grep -c '^done' <<<"$output")" 2
	server_printed hello
	server_printed world
}

@test "lab 1: the server dies of SIGPIPE (status 141) once the client leaves" {
	lab_server 1-naive "$PORT"
	lab_client 1-naive "$PORT" hello world
	assert_success
	wait_for 5 gone "$SERVER_PID"
	assert_equal "$(exit_status "$SERVER_PID")" 141
}

@test "lab 1: a client killed with SIGKILL kills the server just the same" {
	lab_server 1-naive "$PORT"
	mkfifo "$BATS_TEST_TMPDIR/in"
	# Opened for reading and writing, the FIFO does not block; the client
	# then reads from it what this test writes.
	exec {in}<>"$BATS_TEST_TMPDIR/in"
	spawn "$BATS_TEST_TMPDIR/client.out" "$BUILD/labs/1-naive/client" "$PORT" <"$BATS_TEST_TMPDIR/in"
	client=$BG_PID
	echo hello >&"$in"
	# The client's stdout is a file, so fully buffered: watch the server.
	wait_for 5 server_printed hello
	kill -KILL "$client"
	exec {in}>&-
	wait_for 5 gone "$SERVER_PID"
	assert_equal "$(exit_status "$SERVER_PID")" 141
}

@test "lab 1: the second client is refused, because the server is dead" {
	run "$ROOT/labs/scenario" --port "$PORT" 1-naive
	assert_success
	assert_line "verdict: lab=1-naive server=killed-by-SIGPIPE client2=refused"
}

@test "lab 1: with SIGPIPE ignored by its parent, the server would survive: the scenario restores the default" {
	run bash -c "trap '' PIPE; exec '$ROOT/labs/scenario' --port $PORT 1-naive"
	assert_success
	assert_line --partial "started with SIGPIPE ignored"
	assert_line "verdict: lab=1-naive server=killed-by-SIGPIPE client2=refused"
}
