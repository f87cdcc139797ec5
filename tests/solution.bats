#!/usr/bin/env bats
# The solution: the server outlives every way a client can leave, serves many
# clients at once, never spins, leaks nothing, and stops cleanly. And it holds
# up as production code must: against readers of its log that stall or leave,
# clients that never read or never finish, a full table, the descriptor limit,
# and a stop with work in flight.
#
# SOLUTION_SERVER names another server binary to test (a sanitized build, say).

setup_file() {
	make -C "$BATS_TEST_DIRNAME/.." --no-print-directory -s build/solution/server build/solution/client >&2
}

setup() {
	load 'test_helper/common'
	PORT=$(free_port)
	SERVER_OUT=$BATS_TEST_TMPDIR/server.out
	SERVER_BIN=${SOLUTION_SERVER:-$BUILD/solution/server}
}

teardown() { teardown_processes; }

# start_server [OPTION...]: the solution's server on $PORT (serve, in common.bash).
start_server() { serve "$PORT" "$SERVER_BIN" "$@"; }

# client LINE...: the solution's client on $PORT (client_run, in common.bash).
client() { client_run "$PORT" "$BUILD/solution/client" "$@"; }

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
	run timeout 30 python3 -c '
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
	run timeout 60 python3 -c '
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

# --- logging that can neither kill nor block the server --------------------------------

# start_server_to_fifo: as start_server, but the server's standard output is
# the FIFO $STDOUT_FIFO (its standard error is still $SERVER_OUT). The caller
# opens the FIFO for reading, then waits until the server listens.
start_server_to_fifo() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	spawn "$SERVER_OUT" bash -c 'exec "$@" >"$0"' "$STDOUT_FIFO" "$SERVER_BIN" "$PORT" </dev/null
	SERVER_PID=$BG_PID
}

@test "solution: a standard output whose reader has gone (server | head -n 1) does not kill the server" {
	STDOUT_FIFO=$BATS_TEST_TMPDIR/stdout
	mkfifo "$STDOUT_FIFO"
	start_server_to_fifo
	spawn "$BATS_TEST_TMPDIR/head.out" head -n 1 <"$STDOUT_FIFO"
	head_pid=$BG_PID
	wait_for 5 listening "$PORT"
	client first
	assert_output 'done'
	wait_for 5 gone "$head_pid"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/head.out")" first
	# The next line printed meets a pipe with no reader: EPIPE, not SIGPIPE.
	client second third
	assert_success
	assert_output "$(printf 'done\ndone')"
	alive "$SERVER_PID"
	wait_for 5 server_logged "standard output: Broken pipe: lines are no longer printed"
	client fourth
	assert_output 'done'
	assert_equal "$(grep -c 'standard output: Broken pipe' "$SERVER_OUT")" 1
}

@test "solution: a standard output nobody reads blocks no client, and the lines it missed are counted" {
	STDOUT_FIFO=$BATS_TEST_TMPDIR/stdout
	mkfifo "$STDOUT_FIFO"
	# Open for reading (and writing, so that opening does not wait), and
	# never read: the pipe fills at 64 KB.
	exec {hold}<>"$STDOUT_FIFO"
	start_server_to_fifo
	wait_for 5 listening "$PORT"
	# 20000 lines of 200 bytes: 60 times what the pipe holds.
	run timeout 60 python3 - "$PORT" <<'PY'
import socket, sys, threading
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def send():
    s.sendall((b"z" * 199 + b"\n") * 20000)
    s.shutdown(socket.SHUT_WR)
threading.Thread(target=send, daemon=True).start()
got = bytearray()  # counted at the end: a reply may straddle two recv()s
while True:
    data = s.recv(65536)
    if not data:
        break
    got += data
print(got.count(b"done\n"))
PY
	assert_success
	assert_output 20000
	alive "$SERVER_PID"
	# Once the pipe is read, the server says how many lines it dropped.
	run timeout 30 python3 - "$STDOUT_FIFO" "$SERVER_OUT" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
for _ in range(1000):
    try:
        while os.read(fd, 65536):
            pass
    except BlockingIOError:
        pass
    with open(sys.argv[2], "rb") as log:
        if b"log lines dropped" in log.read():
            sys.exit(0)
    time.sleep(0.01)
sys.exit("the server never said how many lines it dropped")
PY
	exec {hold}>&-
	assert_success
	run grep -E '^server: [0-9]+ log lines dropped: standard output was not read fast enough$' "$SERVER_OUT"
	assert_success
}

@test "solution: repeated errors are rate-limited: ten a second are shown, the rest counted" {
	start_server
	# 200 clients that reset at once.
	run timeout 60 python3 - "$PORT" <<'PY'
import socket, struct, sys
for _ in range(200):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
PY
	assert_success
	wait_for 5 server_logged "more client errors in the last"
	shown=$(grep -c 'reset the connection (ECONNRESET)' "$SERVER_OUT")
	hidden=$(sed -nE 's/^server: ([0-9]+) more client errors in the last .*/\1/p' "$SERVER_OUT" |
		awk '{ n += $1 } END { print n + 0 }')
	((shown >= 10 && shown <= 30))
	((shown + hidden >= 150))
	fresh_client_served
}

# --- back-pressure instead of drops --------------------------------------------------------

@test "solution: 4000 empty lines in one write get 4000 replies (more than the reply buffer holds at once)" {
	start_server
	run timeout 60 python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\n" * 4000)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    data = s.recv(65536)
    if not data:
        break
    got += data
print(got.count(b"done\n"), len(got))
PY
	assert_success
	assert_output "4000 20000"
	refute server_logged "dropped"
}

@test "solution: a client that never reads is closed by the idle time-out (-i), and others are served meanwhile" {
	start_server -i 1
	run timeout 60 python3 - "$PORT" <<'PY'
import socket, sys, threading
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
outcome = []
def send():
    try:
        for _ in range(4096):
            s.sendall(b"y\n" * 8192)
        outcome.append("never closed")
    except (ConnectionResetError, BrokenPipeError):
        outcome.append("closed")
sender = threading.Thread(target=send, daemon=True)
sender.start()
other = socket.create_connection(("127.0.0.1", port), timeout=5)
other.sendall(b"meanwhile\n")
if other.recv(64) != b"done\n":
    sys.exit("the other client was not served")
other.close()
sender.join(20)
print(outcome[0] if outcome else "still sending after 20 s")
PY
	assert_success
	assert_output closed
	server_logged "closed: it sent and received nothing for 1."
	fresh_client_served
}

# --- time-outs, and a full table -----------------------------------------------------------

@test "solution: an idle client is closed after the idle time-out (-i), with a FIN" {
	start_server -i 1
	run timeout 30 python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=8)
start = time.monotonic()
data = s.recv(64)  # b"": the server's FIN (a RST would raise)
elapsed = time.monotonic() - start
print(repr(data), "after about 1 s" if 0.9 <= elapsed < 4 else "after %.1f s" % elapsed)
PY
	assert_success
	assert_output "b'' after about 1 s"
	server_logged "closed: it sent and received nothing for 1."
}

@test "solution: a line trickled a byte at a time is cut after the line time-out (-l), though bytes keep coming" {
	start_server -l 1 -i 10
	run timeout 30 python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.2)
start = time.monotonic()
while time.monotonic() - start < 8:
    try:
        s.send(b"a")  # a byte every 0.2 s, never a newline
        if s.recv(64) == b"":
            break  # the server's FIN
    except socket.timeout:
        continue
    except (ConnectionResetError, BrokenPipeError):
        break
else:
    sys.exit("never cut")
elapsed = time.monotonic() - start
print("cut" if 0.9 <= elapsed < 4 else "cut after %.1f s" % elapsed)
PY
	assert_success
	assert_output cut
	server_logged "closed: it did not finish a line for 1."
}

@test "solution: with every place taken (-c 2), a newcomer is served and the longest-idle client makes room" {
	start_server -c 2
	exec {oldest}<>"/dev/tcp/127.0.0.1/$PORT"
	wait_for 5 server_logged "connected"
	exec {recent}<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'recent\n' >&"$recent"
	read -r -t 5 -u "$recent" reply
	assert_equal "$reply" 'done'
	client newcomer
	assert_success
	assert_output 'done'
	# The oldest was closed with a FIN: read meets the end of the stream.
	run read -r -t 5 -u "$oldest" line
	assert_equal "$status" 1
	printf 'still here\n' >&"$recent"
	read -r -t 5 -u "$recent" reply
	assert_equal "$reply" 'done'
	server_logged "to make room for a new client (all 2 places are taken"
	exec {oldest}>&- {recent}>&-
}

@test "solution: 1000 idle connections (a full table) do not lock a newcomer out" {
	start_server
	run timeout 60 python3 - "$PORT" <<'PY'
import resource, socket, sys
port = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < 1100:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1100), hard))
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
newcomer = socket.create_connection(("127.0.0.1", port), timeout=5)
newcomer.sendall(b"newcomer\n")
try:
    print("served" if newcomer.recv(64) == b"done\n" else "closed")
except socket.timeout:
    print("no reply within 5 s")
PY
	assert_success
	assert_output served
	server_logged "to make room for a new client (all 1000 places are taken"
}

# start_server_with_files N: as start_server, with the limit on open files (ulimit -n) at N.
start_server_with_files() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	serve "$PORT" bash -c 'ulimit -n "$0" && exec "$@"' "$1" "$SERVER_BIN"
}

# --- EMFILE ------------------------------------------------------------------------------------

@test "solution: at the descriptor limit new clients are closed at once, logged once, and served when a descriptor frees" {
	# 16 descriptors: stdio, the wakeup pipe, the listener, the reserve, and 9 clients.
	start_server_with_files 16
	run timeout 60 python3 - "$PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def served(s):
    try:
        s.sendall(b"line\n")
        return s.recv(64) == b"done\n"
    except ConnectionResetError:
        return False
kept = []
for _ in range(30):  # until the first client turned away
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if not served(s):
        break
    kept.append(s)
else:
    sys.exit("no client was ever turned away")
# 50 more at once: each is closed at once (a FIN), none waits in the backlog.
extra = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(50)]
for s in extra:
    if s.recv(64) != b"":
        sys.exit("a client past the limit got a reply")
    s.close()
# A descriptor frees: a new client is served.
kept.pop().close()
for _ in range(100):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if served(s):
        break
    s.close()
    time.sleep(0.05)
else:
    sys.exit("not served after a descriptor freed")
print("served %d at once" % (len(kept) + 1))
PY
	assert_success
	assert_output --regexp '^served [0-9]+ at once$'
	assert_equal "$(grep -c 'accept: Too many open files' "$SERVER_OUT")" 1
	server_logged "descriptors are free again"
	alive "$SERVER_PID"
}

# --- stopping ------------------------------------------------------------------------------------

@test "solution: SIGTERM with 50 clients sending: every line printed is answered, and every connection ends with a FIN" {
	start_server
	run timeout 60 python3 - "$PORT" "$SERVER_PID" "$SERVER_OUT" <<'PY'
import os, signal, socket, sys, threading, time
port, pid, log, clients = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], 50
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(clients)]
stop = threading.Event()
replies, endings = [bytearray() for _ in range(clients)], ["none"] * clients
def sender(i):
    n = 0
    try:
        while not stop.is_set():
            conns[i].sendall(b"".join(b"c%d n%d\n" % (i, n + k) for k in range(100)))
            n += 100
        conns[i].shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the reader says how the connection ended
def reader(i):
    try:
        while True:
            data = conns[i].recv(65536)
            if not data:
                endings[i] = "FIN"
                break
            replies[i] += data  # counted at the end: a reply may straddle two recv()s
    except ConnectionResetError:
        endings[i] = "RST"
threads = [threading.Thread(target=f, args=(i,)) for i in range(clients) for f in (sender, reader)]
for t in threads:
    t.start()
for _ in range(2000):  # in the thick of it: 200 KB of lines printed
    if os.path.getsize(log) > 200000:
        break
    time.sleep(0.01)
os.kill(pid, signal.SIGTERM)
stop.set()
for t in threads:
    t.join(30)
for i in range(clients):
    print(i, replies[i].count(b"done\n"), endings[i])
PY
	assert_success
	wait_for 10 gone "$SERVER_PID"
	rc=0
	wait "$SERVER_PID" || rc=$?
	assert_equal "$rc" 0
	server_logged "SIGTERM: every connection closed in order, exiting"
	local i replies ending
	while read -r i replies ending; do
		assert_equal "client $i: $ending" "client $i: FIN"
		assert_equal "client $i: $replies replies" "client $i: $(grep -c "^c$i n" "$SERVER_OUT") replies"
	done <<<"$output"
}

@test "solution: SIGTERM: new clients are refused at once, an idle client gets a FIN, exit status 0, the port is free again" {
	start_server
	exec {conn}<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'hello\n' >&"$conn"
	read -r -t 5 -u "$conn" reply
	assert_equal "$reply" 'done'
	kill -TERM "$SERVER_PID"
	wait_for 5 server_logged "SIGTERM: no new clients"
	refute listening "$PORT"
	run read -r -t 5 -u "$conn" line
	assert_equal "$status" 1 # the end of the stream: the server's FIN
	exec {conn}>&-
	wait_for 5 gone "$SERVER_PID"
	rc=0
	wait "$SERVER_PID" || rc=$?
	assert_equal "$rc" 0
	server_logged "SIGTERM: every connection closed in order, exiting"
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

@test "solution: a client that never closes is cut at the stop deadline (-s), with a FIN" {
	start_server -s 1
	exec {conn}<>"/dev/tcp/127.0.0.1/$PORT"
	wait_for 5 server_logged "connected"
	kill -TERM "$SERVER_PID"
	wait_for 5 gone "$SERVER_PID"
	rc=0
	wait "$SERVER_PID" || rc=$?
	assert_equal "$rc" 0
	server_logged "SIGTERM: the 1.0 s to stop are over: 1 connection cut"
	run read -r -t 1 -u "$conn" line
	assert_equal "$status" 1 # a FIN, not a reset
	exec {conn}>&-
}

@test "solution: a second SIGTERM stops the server at once" {
	start_server -s 60
	exec {conn}<>"/dev/tcp/127.0.0.1/$PORT"
	wait_for 5 server_logged "connected"
	kill -TERM "$SERVER_PID"
	wait_for 5 server_logged "SIGTERM: no new clients"
	alive "$SERVER_PID" # waiting for the client to close, up to 60 s
	kill -TERM "$SERVER_PID"
	wait_for 2 gone "$SERVER_PID"
	server_logged "SIGTERM again: stopped at once, 1 connection cut"
	exec {conn}>&-
}

# --- the command line, and the address families ----------------------------------------------------

@test "solution: one socket serves IPv6 and IPv4 clients ([::1] and 127.0.0.1)" {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
		skip "no IPv6 on this machine"
	start_server
	run timeout 30 python3 - "$PORT" <<'PY'
import socket, sys
for host in ("::1", "127.0.0.1"):
    s = socket.create_connection((host, int(sys.argv[1])), timeout=5)
    s.sendall(b"from %s\n" % host.encode())
    print(host, "served" if s.recv(64) == b"done\n" else "not served")
PY
	assert_success
	assert_output "$(printf '::1 served\n127.0.0.1 served')"
	server_logged "client [::1]:"
	server_logged "client 127.0.0.1:"
	server_logged "from ::1"
	# One listening socket, in the IPv6 table.
	hex=$(printf '%04X' "$PORT")
	listeners() { awk -v hex="$hex" 'FNR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == hex) n++ } END { print n + 0 }' "$1"; }
	assert_equal "$(listeners /proc/net/tcp6) $(listeners /proc/net/tcp)" "1 0"
}

@test "solution: bad ports are usage errors (exit 2), a port in use is a failure (exit 1)" {
	local bad
	for bad in nope " $PORT" "+$PORT" "${PORT}x" "" 0 65536 99999999999999999999; do
		run timeout 2 "$SERVER_BIN" "$bad"
		assert_equal "port '$bad': $status" "port '$bad': 2"
		assert_output --partial "server: bad port '$bad': give a number from 1 to 65535"
	done
	run "$BUILD/solution/client" 70000
	assert_equal "$status" 2
	assert_output --partial "client: bad port '70000'"
	run "$SERVER_BIN" 1 2
	assert_equal "$status" 2
	assert_output --partial "usage: server [-i IDLE] [-l LINE] [-s STOP] [-c CLIENTS] [port]"
	for bad in "-i 0" "-l x" "-s -1" "-c 0"; do
		# shellcheck disable=SC2086 # the option and its value, split on purpose
		run timeout 2 "$SERVER_BIN" $bad "$PORT"
		assert_equal "$bad: $status" "$bad: 2"
	done
	start_server
	run "$SERVER_BIN" "$PORT"
	assert_equal "$status" 1
	assert_output --partial "server: bind to port $PORT: Address already in use"
}

@test "solution: the help gives the time-outs' defaults and the exit statuses" {
	run "$SERVER_BIN" --help
	assert_success
	assert_output --partial "-i IDLE     close a client that sends and receives nothing for IDLE seconds"
	assert_output --partial "(default 300)"
	assert_output --partial "(default 30)"
	assert_output --partial "Exit status: 0 after a stop by signal, 1 on a failure, 2 on bad arguments."
}

# --- the client ------------------------------------------------------------------------

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
