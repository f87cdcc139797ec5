#!/usr/bin/env bats
# Lab 8, the neighbours: what SIGPIPE does to the writer's neighbours. A
# thread that writes takes its whole process with it; a SIGPIPE blocked before
# exec() stays blocked, and the server spins; a forked child dies alone, and
# stays a zombie until it is waited for; a SIGCHLD handler without SA_RESTART
# reaps it, but interrupts accept(), whose unchecked -1 becomes a child that
# spins on fd -1.

# Each test gets a free $PORT and leaves no process (test_helper/labs); the suite builds the labs once.
load 'test_helper/labs'

LAB=8-neighbours

# neighbour_server PROGRAM PORT [WRAPPER...]: start lab 8's PROGRAM on PORT,
# under the WRAPPER command if one is given (strace, say); $SERVER_PID is
# the first process started, and the server listens when this returns.
neighbour_server() {
	local program=$1 on=$2
	shift 2
	serve "$on" "$@" "$BUILD/labs/$LAB/$program"
}

# sigpipe_bit FIELD PID: PID's /proc status FIELD (SigBlk, SigPnd ...) has
# SIGPIPE's bit (13) set.
sigpipe_bit() {
	local mask
	mask=$(awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/status")
	(((16#$mask >> 12) & 1))
}

# children_in STATE PID: PID has at least one child in STATE (a letter of
# /proc/PID/stat: Z zombie, R running ...).
children_in() {
	local child stat
	for child in $(pgrep -P "$2"); do
		stat=$(cat "/proc/$child/stat" 2>/dev/null) || continue
		stat=${stat##*) }
		[[ ${stat%% *} == "$1" ]] && return 0
	done
	return 1
}

# strace_lines REGEX: the lines of the server's strace output matching REGEX.
strace_lines() { grep -E -- "$1" "$BATS_TEST_TMPDIR/strace.out" || true; }

# client_when_accepting LINE: lab 8's client connects, and sends LINE only once
# the server is back in accept() with the child it forked for this client. The
# child dies when the client has gone, and its SIGCHLD must find the parent
# waiting in accept(): without this wait a loaded machine (or strace, which
# stops the parent at each call) can keep the parent from accept() until the
# child is dead, and the signal then interrupts nothing.
client_when_accepting() {
	run timeout 15 env --default-signal=PIPE "$BUILD/labs/$LAB/client" "$PORT" \
		< <(wait_for 10 back_in_accept "$SERVER_PID" && printf '%s\n' "$1")
}

# back_in_accept PID: PID, or its child (the server under strace), waits in
# accept() (the kernel's inet_csk_accept) and has a child.
back_in_accept() {
	local p
	for p in "$1" $(pgrep -P "$1"); do
		[[ $(<"/proc/$p/wchan") == inet_csk_accept && -n $(pgrep -P "$p") ]] 2>/dev/null && return 0
	done
	return 1
}

# Threads

@test "lab 8: the SIGPIPE goes to the thread that wrote, and kills the whole server, its accept() too" {
	neighbour_server server "$PORT" strace -f -o "$BATS_TEST_TMPDIR/strace.out" -e trace=accept,sendto,clone3,clone
	lab_client "$LAB" "$PORT" hello world
	assert_success
	wait_for 5 gone "$SERVER_PID"
	# strace ends as its tracee did.
	assert_equal "$(exit_status "$SERVER_PID")" 141
	# The thread: the one that failed to send, not the one that accepts.
	writer=$(strace_lines 'sendto\(.*= -1 EPIPE' | awk '{ print $1 }' | sort -u)
	acceptor=$(strace_lines '^[0-9]+ +accept\(' | awk '{ print $1 }' | sort -u)
	[[ $writer =~ ^[0-9]+$ && $acceptor =~ ^[0-9]+$ ]] || fail "no single writer ($writer) or acceptor ($acceptor)"
	assert [ "$writer" != "$acceptor" ]
	run strace_lines '--- SIGPIPE'
	assert_output --regexp "^$writer +--- SIGPIPE"
	assert_equal "${#lines[@]}" 1
	# Both die of it: the writer, and the thread waiting in accept().
	run strace_lines "^($writer|$acceptor) +\+\+\+ killed by SIGPIPE"
	assert_equal "${#lines[@]}" 2
}

@test "lab 8: the scenario's verdict for the threaded server is lab 1's: killed by SIGPIPE, client 2 refused" {
	run timeout 60 "$ROOT/labs/scenario" --port "$PORT" "$LAB"
	assert_success
	assert_line "verdict: lab=$LAB server=killed-by-SIGPIPE client2=refused"
}

# A blocked SIGPIPE, inherited across exec

@test "lab 8: blocked before exec, SIGPIPE stays blocked: lab 1's server survives with it pending, and spins" {
	serve "$PORT" "$BUILD/labs/$LAB/blocked" "$BUILD/labs/1-naive/server"
	server=$SERVER_PID
	# The launcher became the server (exec keeps the pid) with the mask it set.
	assert_equal "$(readlink "/proc/$server/exe")" "$BUILD/labs/1-naive/server"
	sigpipe_bit SigBlk "$server"
	run sigpipe_bit SigIgn "$server"
	assert_failure
	lab_client 1-naive "$PORT" hello world
	assert_success
	# The failed send raised SIGPIPE for the thread that wrote: it waits there.
	wait_for 5 sigpipe_bit SigPnd "$server"
	spins "$server"
	alive "$server"
}

@test "lab 8: the scenario with --block-sigpipe: the threaded server spins on the old connection, and a new thread serves client 2" {
	run timeout 60 "$ROOT/labs/scenario" --port "$PORT" --block-sigpipe "$LAB"
	assert_success
	assert_line --partial "inherit SIGPIPE blocked"
	assert_line "verdict: lab=$LAB server=spinning client2=served"
}

# Fork per client, zombies, SIGCHLD and EINTR

@test "lab 8: the forked child that wrote dies of SIGPIPE alone; the server serves the next client, and the child stays a zombie" {
	neighbour_server server-fork "$PORT"
	lab_client "$LAB" "$PORT" hello world
	assert_success
	wait_for 5 children_in Z "$SERVER_PID"
	lab_client "$LAB" "$PORT" again
	assert_success
	assert_output "done"
	alive "$SERVER_PID"
	# Two clients, two children ended, none waited for.
	two_zombies() { (($(pgrep -P "$SERVER_PID" | while read -r c; do
		[[ $(awk '{ print $3 }' "/proc/$c/stat") == Z ]] && echo "$c"; done | wc -l) == 2)); }
	wait_for 5 two_zombies
}

@test "lab 8: the scenario with server-fork reports the zombie, and serves client 2" {
	run timeout 60 "$ROOT/labs/scenario" --port "$PORT" --server server-fork "$LAB"
	assert_success
	assert_line "the server's children after the pause: 1 zombie (ended, and never waited for by the server)"
	assert_line "verdict: lab=$LAB server=alive client2=served"
}

@test "lab 8: a SIGCHLD handler without SA_RESTART reaps the child, and accept() fails with EINTR" {
	neighbour_server server-sigchld "$PORT" strace -f -o "$BATS_TEST_TMPDIR/strace.out" \
		-e trace=accept,wait4,rt_sigreturn,recvfrom -e signal=SIGCHLD,SIGPIPE
	client_when_accepting hello
	assert_success
	assert_output "done"
	eintr() { [[ -n $(strace_lines 'rt_sigreturn\(.*= -1 EINTR') ]]; }
	wait_for 5 eintr
	# The handler waited for the child that SIGPIPE killed.
	run strace_lines 'wait4\(-1, NULL, WNOHANG, NULL\) += [0-9]+$'
	assert_equal "${#lines[@]}" 1
	run children_in Z "$SERVER_PID"
	assert_failure
}

@test "lab 8: the unchecked -1 from the interrupted accept() becomes a child that spins on fd -1" {
	neighbour_server server-sigchld "$PORT"
	client_when_accepting hello
	assert_success
	assert_output "done"
	# The child that served client 1 was reaped; the one left was forked after the EINTR.
	one_child() { [[ $(pgrep -P "$SERVER_PID") =~ ^[0-9]+$ ]]; }
	wait_for 5 one_child
	child=$(pgrep -P "$SERVER_PID")
	spins "$child"
	spawn "$BATS_TEST_TMPDIR/strace.err" strace -p "$child" -e trace=recvfrom,sendto -o "$BATS_TEST_TMPDIR/strace.out"
	ebadf() { (($(count_lines 'recvfrom(-1,.*= -1 EBADF' "$BATS_TEST_TMPDIR/strace.out") >= 100)); }
	wait_for 20 ebadf
	kill -KILL "$child"
}

@test "lab 8: the scenario with server-sigchld reports the spinning child, though the server itself is idle" {
	run timeout 60 "$ROOT/labs/scenario" --port "$PORT" --server server-sigchld "$LAB"
	assert_success
	assert_line --partial "1 child spinning with nobody connected"
	assert_line "verdict: lab=$LAB server=alive client2=served"
}

@test "lab 8: the scenario refuses a server name that is not a program's name" {
	run "$ROOT/labs/scenario" --port "$PORT" --server ../1-naive/server "$LAB"
	assert_failure 1
	assert_output --partial "bad server '../1-naive/server'"
	run "$ROOT/labs/scenario" --port "$PORT" --server server-none "$LAB"
	assert_failure 1
	assert_output --partial "no program at"
}
