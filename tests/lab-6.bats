#!/usr/bin/env bats
# Lab 6, the other side: the server answers one request per connection and
# hangs up; the client writes on, and SIGPIPE kills the client.

# Each test gets a free $PORT and leaves no process (test_helper/labs); the suite builds the labs once.
load 'test_helper/labs'
load 'test_helper/paced'

@test "lab 6: the server answers one request, hangs up, and serves the next client" {
	lab_server 6-client-side "$PORT"
	lab_client 6-client-side "$PORT" hello
	assert_success
	assert_output --partial 'done'
	lab_client 6-client-side "$PORT" again
	assert_success
	assert_output --partial 'done'
	server_printed again
	alive "$SERVER_PID"
}

@test "lab 6: the client's first send after the FIN succeeds, its second fails with EPIPE and SIGPIPE kills it" {
	lab_server 6-client-side "$PORT"
	paced_client 6-client-side "$PORT" hello world again more
	assert_equal "$CLIENT_STATUS" 141
	run client_calls
	assert_output "sendto = 6
recvfrom = 5
sendto = 6
recvfrom = 0
sendto = -1 EPIPE
signal SIGPIPE
killed by SIGPIPE"
	alive "$SERVER_PID"
}

@test "lab 6: on the wire: the server's FIN, the client's data after it, and the RST that answers it" {
	traced_scenario 6-client-side
	run server_flags 1
	assert_line FIN,ACK
	# The RST comes after the FIN, in answer to the client's second line.
	assert_equal "$(grep -m1 -n FIN <<<"$output" | cut -d: -f1)" \
		"$(($(grep -m1 -n RST <<<"$output" | cut -d: -f1) - 1))"
	# The first client to end is client 1.
	run jq -rs 'map(select(.type == "exit" and .proc == "client"))[0].signal' "$BATS_TEST_TMPDIR/events.jsonl"
	assert_output SIGPIPE
}

@test "lab 6: the scenario: the server lives on and serves client 2, client 1 dies of SIGPIPE" {
	run "$ROOT/labs/scenario" --port "$PORT" 6-client-side
	assert_success
	assert_line --partial "client 1 sent 3 lines, got 1 replies"
	assert_line --partial "client 1 itself was killed by SIGPIPE"
	assert_line "verdict: lab=6-client-side server=alive client2=served"
}
