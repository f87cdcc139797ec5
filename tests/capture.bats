#!/usr/bin/env bats
# sigtrace's capture: nothing lost silently. The kernel's counts come at the
# end of every live run as a "capture" event; packets lost to a full buffer
# are said on stderr and make a successful run exit 3.
#
# Each test runs in a subshell of its own, where run sets output and stderr:
# shellcheck disable=SC2030,SC2031,SC2154

bats_require_minimum_version 1.5.0

setup() {
	load 'test_helper/common'
	load 'test_helper/trace'
	ROUNDTRIPS=$BATS_TEST_DIRNAME/test_helper/roundtrips
	TRACE=$BATS_TEST_TMPDIR/trace.jsonl
}

teardown() { teardown_processes; }

# under_tracer OPTION... -- CLIENTS LINES: round trips under sigtrace --netns, events in $TRACE
under_tracer() {
	local opts=()
	while [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	run --separate-stderr timeout "$RUN_LIMIT" "$SIGTRACE" --netns "${opts[@]}" -o "$TRACE" -- \
		"$ROUNDTRIPS" 3333 "$1" "$2" </dev/null 3>&-
}

@test "capture: a normal run takes in every packet: 0 dropped, nothing said, status 0" {
	under_tracer -- 4 100
	assert_success
	assert_equal "$(count '.type == "capture"')" 1
	assert_equal "$(count '.type == "capture" and .dropped == 0 and .ifdropped == 0')" 1
	# Every packet on the timeline was counted (lo shows the kernel each one twice).
	packets=$(count '.type == "packet"')
	assert [ "$packets" -ge 800 ]
	assert [ "$(events '.type == "capture"' | jq .received)" -ge "$packets" ]
	refute_regex "$stderr" 'lost [0-9]+ of'
}

@test "capture: packets lost to a full buffer are counted, said on stderr, and the run exits 3" {
	# A buffer of one page holds a dozen packets. 64 MB sent in one call, read a
	# megabyte a call, over a loopback cut to Ethernet's MTU, are 45,000 data
	# segments and their ACKs in well under a second, between a few dozen stops.
	# shellcheck disable=SC2016 # $0 is the inner shell's
	run --separate-stderr timeout "$RUN_LIMIT" "$SIGTRACE" --netns -B 4 -o "$TRACE" -- \
		bash -c 'ip link set lo mtu 1500 && exec python3 -c "$0"' '
import socket, threading
size = 64 << 20
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
client = socket.create_connection(server.getsockname())
conn, _ = server.accept()
def read_all():
    got = 0
    while got < size:
        data = conn.recv(1 << 20)
        if not data:
            break
        got += len(data)
reader = threading.Thread(target=read_all)
reader.start()
client.sendall(b"x" * size)
client.close()
reader.join()
' </dev/null 3>&-
	assert_equal "$status" 3
	dropped=$(events '.type == "capture"' | jq .dropped)
	received=$(events '.type == "capture"' | jq .received)
	assert [ "$dropped" -gt 0 ]
	assert_regex "$stderr" "sigtrace: lost $dropped of $received packets: .*give a larger buffer with -B KIB"
}

@test "capture: a buffer size out of bounds or not a number is a usage error (2)" {
	for size in 0 3 4194305 x 8k -4 ''; do
		run --separate-stderr "$SIGTRACE" -B "$size" -- true
		assert_equal "$status" 2
		assert_regex "$stderr" "bad buffer size '$size': give KiB from 4 to 4194304"
	done
}
