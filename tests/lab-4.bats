#!/usr/bin/env bats
# Lab 4, a SIGPIPE handler clears `connected`: the server goes back to
# accept() after a client leaves, but its late signal() leaves a hole.

# Each test gets a free $PORT and leaves no process (test_helper/labs); the suite builds the labs once.
load 'test_helper/labs'

@test "lab 4: SIGPIPE is caught after the first client, and the server serves the next one" {
	lab_server 4-handler "$PORT"
	lab_client 4-handler "$PORT" hello world
	assert_success
	signal_caught "$SERVER_PID" 13
	lab_client 4-handler "$PORT" again
	assert_success
	assert_output --partial 'done'
	server_printed again
	alive "$SERVER_PID"
}

@test "lab 4: the handler is installed late: not before the first send" {
	lab_server 4-handler "$PORT"
	run signal_caught "$SERVER_PID" 13
	assert_failure
}

@test "lab 4: after the first client, the server waits in accept without using CPU" {
	lab_server 4-handler "$PORT"
	lab_client 4-handler "$PORT" hello world
	assert_success
	wait_for 5 signal_caught "$SERVER_PID" 13
	before=$(cpu_ticks "$SERVER_PID")
	sleep 1 # the measurement window, not a wait for a condition
	after=$(cpu_ticks "$SERVER_PID")
	((after - before <= 10))
}

@test "lab 4: the hole: a first client that resets before the first send kills the server" {
	lab_server 4-handler "$PORT"
	# SO_LINGER {1, 0}: close() sends a RST instead of a FIN.
	run timeout 5 python3 -c '
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()' "$PORT"
	assert_success
	wait_for 5 gone "$SERVER_PID"
	assert_equal "$(exit_status "$SERVER_PID")" 141
}

@test "lab 4: the second client is served" {
	run "$ROOT/labs/scenario" --port "$PORT" 4-handler
	assert_success
	assert_line "verdict: lab=4-handler server=alive client2=served"
}
