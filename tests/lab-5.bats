#!/usr/bin/env bats
# Lab 5, a close with unread data: the server hangs up with part of a request
# unread, so its kernel sends a RST instead of a FIN. The client's next send
# fails with ECONNRESET and raises nothing; only the send after that fails
# with EPIPE and raises SIGPIPE.

# Each test gets a free $PORT and leaves no process (test_helper/labs); the suite builds the labs once.
load 'test_helper/labs'
load 'test_helper/paced'

LONG='hello, this request is longer than sixteen bytes'

@test "lab 5: the server reads 16 bytes of a request, answers, and serves the next client" {
	lab_server 5-unread-close "$PORT"
	lab_client 5-unread-close "$PORT" "$LONG"
	assert_success
	assert_output --partial 'done'
	server_printed 'hello, this requ'
	lab_client 5-unread-close "$PORT" again
	assert_success
	assert_output --partial 'done'
	server_printed again
	alive "$SERVER_PID"
}

@test "lab 5: after the RST the client's send fails with ECONNRESET, and only the next one with EPIPE and SIGPIPE" {
	lab_server 5-unread-close "$PORT"
	paced_client 5-unread-close "$PORT" "$LONG" world again more
	assert_equal "$CLIENT_STATUS" 141
	run client_calls
	assert_output "sendto = 49
recvfrom = 5
sendto = -1 ECONNRESET
recvfrom = 0
sendto = -1 EPIPE
signal SIGPIPE
killed by SIGPIPE"
	alive "$SERVER_PID"
}

@test "lab 5: a request that fits in 16 bytes is read to the end, and the close is an orderly FIN" {
	lab_server 5-unread-close "$PORT"
	paced_client 5-unread-close "$PORT" hello world again
	assert_equal "$CLIENT_STATUS" 141
	run client_calls
	# The FIN came first: the second send succeeds and draws the RST, the
	# third fails with EPIPE. ECONNRESET never shows.
	assert_output "sendto = 6
recvfrom = 5
sendto = 6
recvfrom = 0
sendto = -1 EPIPE
signal SIGPIPE
killed by SIGPIPE"
}

@test "lab 5: on the wire the server's close is a RST with no FIN before it" {
	traced_scenario 5-unread-close
	run server_flags 1
	assert_line --partial RST
	refute_line --partial FIN
	# Client 2's request fits, so its connection ends with a FIN.
	run server_flags 2
	assert_line --partial FIN
	refute_line --partial RST
}

@test "lab 5: the scenario: the server lives on and serves client 2, client 1 dies of SIGPIPE" {
	run "$ROOT/labs/scenario" --port "$PORT" 5-unread-close
	assert_success
	assert_line --partial "client 1 sent 3 lines, got 1 replies"
	assert_line --partial "client 1 itself was killed by SIGPIPE"
	assert_line "verdict: lab=5-unread-close server=alive client2=served"
}
