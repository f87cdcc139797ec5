# For the labs whose client is fed one line at a time (labs 5 and 6): load it
# after 'test_helper/labs'.

# shellcheck disable=SC2034,SC2154 # CLIENT_STATUS is for the files that load
# this one; output is set by bats' `run`

# paced_client LAB PORT LINE...: run LAB's client under strace, connected to
# PORT, and feed it each LINE only once it has printed what came back for the
# line before (or has died), as labs/scenario does for a lab whose
# scenario.conf lists client1= lines: each send then meets the connection in
# a known state. The client's socket calls and signals are in
# $BATS_TEST_TMPDIR/client.trace; $CLIENT_STATUS is its exit status (strace
# ends as its tracee did, so a client killed by SIGPIPE gives 141).
paced_client() {
	local lab=$1 port=$2 line size in
	shift 2
	mkfifo "$BATS_TEST_TMPDIR/client.in"
	# Opened for reading and writing, the FIFO does not block.
	exec {in}<>"$BATS_TEST_TMPDIR/client.in"
	{
		spawn "$BATS_TEST_TMPDIR/client.out" strace -o "$BATS_TEST_TMPDIR/client.trace" \
			-e trace=network,signal "$BUILD/labs/$lab/client" "$port"
	} <"$BATS_TEST_TMPDIR/client.in"
	local pid=$BG_PID
	for line in "$@"; do
		alive "$pid" || break
		size=$(stat -c %s "$BATS_TEST_TMPDIR/client.out")
		printf '%s\n' "$line" >&"$in"
		wait_for 5 client_answered "$pid" "$size"
	done
	exec {in}>&-
	wait_for 5 gone "$pid"
	CLIENT_STATUS=$(exit_status "$pid")
}

# client_answered PID SIZE: the client printed more than SIZE bytes, or died.
client_answered() { (($(stat -c %s "$BATS_TEST_TMPDIR/client.out") > $2)) || gone "$1"; }

# client_calls: the client's sends, receives and signals from its trace, one
# a line, in a short form: "sendto = 6", "recvfrom = -1 ECONNRESET",
# "signal SIGPIPE", "killed by SIGPIPE".
client_calls() {
	sed -nE \
		-e 's/^(sendto|recvfrom)\(.*\) += (-?[0-9]+)( ([A-Z]+))?.*/\1 = \2\3/p' \
		-e 's/^--- (SIG[A-Z]+) .*/signal \1/p' \
		-e 's/^\+\+\+ (killed by SIG[A-Z]+).*/\1/p' \
		"$BATS_TEST_TMPDIR/client.trace" | sed -E 's/ \(.*//'
}

# traced_scenario LAB: run LAB's scenario under sigtrace in a private network
# namespace; the events are in $BATS_TEST_TMPDIR/events.jsonl, the scenario's
# and the timeline's text in $output.
traced_scenario() {
	run timeout 60 "$BUILD/sigtrace" --netns -o "$BATS_TEST_TMPDIR/events.jsonl" -- "$ROOT/labs/scenario" "$1"
	if [[ $output == *"user namespace"* ]]; then skip "no private network namespace here: $output"; fi
	assert_success
}

# server_flags N: the TCP flags of each packet the server sent on the Nth
# connection of the run (1 is client 1's), one packet a line.
server_flags() {
	jq -rs --argjson n "$1" '
		map(select(.type == "packet")) as $p
		| ($p | map(select(.from == "server") | .dst) | reduce .[] as $d ([]; if index([$d]) then . else . + [$d] end)) as $conns
		| $p[] | select(.from == "server" and .dst == $conns[$n - 1]) | .flags | join(",")' \
		"$BATS_TEST_TMPDIR/events.jsonl"
}
