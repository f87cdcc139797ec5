#!/usr/bin/env bats
# The solution: the server outlives every way a client can leave, serves many
# clients at once, never spins, leaks nothing, and stops cleanly.

setup_file() {
	make -C "$BATS_TEST_DIRNAME/.." --no-print-directory -s build/solution/server build/solution/client >&2
}

setup() {
	load 'test_helper/common'
	PORT=$(free_port)
	SERVER_OUT=$BATS_TEST_TMPDIR/server.out
}

teardown() { teardown_processes; }

# start_server: the solution's server on $PORT, in the background (pid in
# $SERVER_PID, stdout and stderr in $SERVER_OUT); wait until it listens.
start_server() {
	spawn "$SERVER_OUT" "$BUILD/solution/server" "$PORT" </dev/null
	SERVER_PID=$BG_PID
	wait_for 5 listening "$PORT"
}

# client LINE...: run the solution's client to the end with each LINE on its
# standard input, bounded to 5 s; sets $status and $output as `run` does.
client() {
	run timeout 5 env --default-signal=PIPE "$BUILD/solution/client" "$PORT" < <(printf '%s\n' "$@")
}

# server_logged TEXT: the server's stdout or stderr holds TEXT.
server_logged() { grep -qF -- "$1" "$SERVER_OUT"; }

# fresh_client_served: the server is alive, and a new client's line is
# printed and answered.
fresh_client_served() {
	alive "$SERVER_PID"
	client "fresh client"
	assert_success
	assert_output 'done'
	server_logged "fresh client"
}

# start_piped_client: the solution's client in the background, its standard
# input a pipe the test writes to through fd $in (pid in $client_pid, output
# in client.out). Closing $in ends the client's input.
start_piped_client() {
	mkfifo "$BATS_TEST_TMPDIR/in"
	# Read-write: opening a FIFO for reading alone waits for a writer.
	exec {in}<>"$BATS_TEST_TMPDIR/in"
	spawn "$BATS_TEST_TMPDIR/client.out" "$BUILD/solution/client" "$PORT" <"$BATS_TEST_TMPDIR/in"
	client_pid=$BG_PID
}

fd_count() {
	local fds=(/proc/"$1"/fd/*)
	echo "${#fds[@]}"
}
fd_count_is() { [[ $(fd_count "$1") -eq $2 ]]; }

# --- the scenario every lab runs --------------------------------------------------

@test "solution: the scenario ends with the server alive and client 2 served" {
	run "$ROOT/labs/scenario" --port "$PORT" solution
	assert_success
	assert_line "verdict: lab=solution server=alive client2=served"
}

@test "solution: the scenario with client 1 killed ends the same way" {
	run "$ROOT/labs/scenario" --port "$PORT" --kill solution
	assert_success
	assert_line "verdict: lab=solution server=alive client2=served"
}

# --- every way a client can leave ---------------------------------------------------

@test "solution: a client that ends normally gets one done per line, and the next client is served" {
	start_server
	client hello world
	assert_success
	assert_output "$(printf 'done\ndone')"
	server_logged hello
	server_logged world
	wait_for 5 server_logged "closed the connection"
	fresh_client_served
}

@test "solution: a client killed with SIGKILL does not harm the server" {
	start_server
	start_piped_client
	echo hello >&"$in"
	wait_for 5 grep -q 'done' "$BATS_TEST_TMPDIR/client.out"
	kill -KILL "$client_pid"
	exec {in}>&-
	wait_for 5 server_logged "closed the connection"
	fresh_client_served
}

@test "solution: a client that leaves with its reply unread (a RST) ends quietly" {
	start_server
	exec {conn}<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'unread\n' >&"$conn"
	wait_for 5 read -r -t 0 -u "$conn" # the reply has arrived; it is not read
	exec {conn}>&-                     # close() with unread data sends a RST
	wait_for 5 server_logged "reset the connection (ECONNRESET)"
	fresh_client_served
}

@test "solution: a first client that resets before any reply (lab 4's hole) does not kill the server" {
	start_server
	# SO_LINGER {1, 0}: close() sends a RST instead of a FIN.
	run timeout 5 python3 -c '
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()' "$PORT"
	assert_success
	wait_for 5 server_logged "reset the connection (ECONNRESET)"
	fresh_client_served
}

@test "solution: a line longer than 4096 bytes is one line: one done, its first 4096 bytes printed" {
	start_server
	long=$(printf 'x%.0s' {1..10000})
	client "$long" after
	assert_success
	assert_output "$(printf 'done\ndone')"
	assert_equal "$(grep -c '^x\{4096\}$' "$SERVER_OUT")" 1
	server_logged "a line of 10000 bytes: printed its first 4096, discarded the rest"
	server_logged after
	fresh_client_served
}

@test "solution: a client that never reads its replies is dropped, and the server serves the next" {
	start_server
	# Send short lines without reading a reply, until the server drops us
	# (bounded to 64 MB); exit 0 only if it did.
	run timeout 20 python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
chunk = b"y\n" * 8192
try:
    for _ in range(4096):
        s.sendall(chunk)
except (ConnectionResetError, BrokenPipeError):
    sys.exit(0)
sys.exit("never dropped")' "$PORT"
	assert_success
	server_logged "dropped: it sends but does not read"
	fresh_client_served
}

@test "solution: an idle client with half a line sent does not hold up another" {
	start_server
	exec {idle}<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'half a li' >&"$idle"
	client other
	assert_success
	assert_output 'done'
	printf 'ne\n' >&"$idle"
	read -r -t 5 -u "$idle" reply
	exec {idle}>&-
	assert_equal "$reply" 'done'
	server_logged "half a line"
}

# --- many clients ---------------------------------------------------------------------

@test "solution: 50 clients at once, each answered exactly once per line, in order" {
	start_server
	# All 50 connect first, then send 5 lines each in turns, some lines in two
	# pieces; each reads its replies, then half-closes and reads to the end.
	run timeout 20 python3 -c '
import socket, sys, time
port, clients, lines = int(sys.argv[1]), 50, 5
conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(clients)]
for n in range(1, lines + 1):
    for i, s in enumerate(conns):
        line = b"c%d line %d\n" % (i, n)
        if i % 2:
            s.sendall(line[:3])
            time.sleep(0.001)
            s.sendall(line[3:])
        else:
            s.sendall(line)
    for i, s in enumerate(conns):
        got = b""
        while not got.endswith(b"\n"):
            data = s.recv(64)
            if not data:
                sys.exit("client %d: the server closed early" % i)
            got += data
        if got != b"done\n":
            sys.exit("client %d, line %d: got %r" % (i, n, got))
for i, s in enumerate(conns):
    s.shutdown(socket.SHUT_WR)
    rest = s.recv(64)
    if rest:
        sys.exit("client %d: more than one reply per line: %r" % (i, rest))
    s.close()
print("ok")' "$PORT"
	assert_success
	assert_output 'ok'
	for i in {0..49}; do
		assert_equal "$(grep "^c$i line " "$SERVER_OUT" | tr '\n' ' ')" \
			"c$i line 1 c$i line 2 c$i line 3 c$i line 4 c$i line 5 "
	done
}

@test "solution: no file descriptor leaks: the count comes back after a batch of clients" {
	start_server
	before=$(fd_count "$SERVER_PID")
	conns=()
	for _ in {1..10}; do
		exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
		conns+=("$fd")
	done
	wait_for 5 fd_count_is "$SERVER_PID" $((before + 10))
	# Five leave normally, five with a reply unread (a RST).
	for fd in "${conns[@]:0:5}"; do exec {fd}>&-; done
	for fd in "${conns[@]:5}"; do printf 'line\n' >&"$fd"; done
	for fd in "${conns[@]:5}"; do
		wait_for 5 read -r -t 0 -u "$fd"
		exec {fd}>&-
	done
	for _ in {1..5}; do
		client one two
		assert_success
	done
	wait_for 5 fd_count_is "$SERVER_PID" "$before"
}

@test "solution: with nobody connected the server uses no CPU" {
	start_server
	client hello world
	assert_success
	exec {conn}<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'unread\n' >&"$conn"
	wait_for 5 read -r -t 0 -u "$conn"
	exec {conn}>&-
	wait_for 5 server_logged "reset the connection"
	before=$(cpu_ticks "$SERVER_PID")
	sleep 1 # the measurement window, not a wait for a condition
	after=$(cpu_ticks "$SERVER_PID")
	((after - before <= 2))
}

# --- stopping, and the command line -----------------------------------------------------

@test "solution: SIGTERM with a client connected: exit status 0, and the port is free again" {
	start_server
	exec {conn}<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'hello\n' >&"$conn"
	read -r -t 5 -u "$conn" reply
	assert_equal "$reply" 'done'
	kill -TERM "$SERVER_PID"
	wait_for 5 gone "$SERVER_PID"
	rc=0
	wait "$SERVER_PID" || rc=$?
	assert_equal "$rc" 0
	server_logged "SIGTERM: closed 1 connection, exiting"
	exec {conn}>&-
	refute listening "$PORT"
	# The server closed first, so its end of that connection is in
	# TIME_WAIT: SO_REUSEADDR lets a new server bind the port all the same.
	start_server
	fresh_client_served
}

@test "solution: SIGINT stops the server with exit status 0" {
	start_server
	kill -INT "$SERVER_PID"
	wait_for 5 gone "$SERVER_PID"
	rc=0
	wait "$SERVER_PID" || rc=$?
	assert_equal "$rc" 0
	refute listening "$PORT"
}

@test "solution: bad ports are usage errors (exit 2), a port in use is a failure (exit 1)" {
	run "$BUILD/solution/server" nope
	assert_equal "$status" 2
	assert_output --partial "server: bad port 'nope': give a number from 1 to 65535"
	run "$BUILD/solution/client" 70000
	assert_equal "$status" 2
	assert_output --partial "client: bad port '70000'"
	run "$BUILD/solution/server" 1 2
	assert_equal "$status" 2
	assert_output --partial "usage: server [port]"
	start_server
	run "$BUILD/solution/server" "$PORT"
	assert_equal "$status" 1
	assert_output --partial "server: bind to port $PORT: Address already in use"
}

@test "solution: the client says clearly when there is no server, and when the server goes away" {
	run "$BUILD/solution/client" "$PORT" </dev/null
	assert_equal "$status" 1
	assert_output --partial "client: connect to 127.0.0.1 port $PORT: Connection refused (is the server running?"
	start_server
	start_piped_client
	echo hello >&"$in"
	wait_for 5 grep -q 'done' "$BATS_TEST_TMPDIR/client.out"
	kill -KILL "$SERVER_PID"
	echo again >&"$in"
	wait_for 5 gone "$client_pid"
	exec {in}>&-
	rc=0
	wait "$client_pid" || rc=$?
	assert_equal "$rc" 1 # an error message, not a death by SIGPIPE (141)
	run cat "$BATS_TEST_TMPDIR/client.out"
	# The server's FIN came first, so recv() returns 0; were a RST first, the
	# error would be ECONNRESET or EPIPE: a message all the same.
	assert_output --regexp 'client: (waiting for the reply: the server closed the connection|receiving from the server: Connection reset by peer|sending to the server: Broken pipe)' 
}
