#!/usr/bin/env bats
# The grader: `make grade SERVER=path/to/server.c` compiles a server and runs
# it through every scenario, each against a fresh server, both in a sandbox.
# Each lab fails it for its own reasons, the solution passes, bad input is
# refused with exit 2, and an interrupted grader leaves no process behind.
# Hostile servers (tests/fixtures/hostile/) are contained and judged rightly,
# and a class graded at once gets the verdicts each would get alone.
#
# make reports a failed recipe as "Error N" (N the grader's status) and exits
# 2 itself, whatever N was: the grader's own status is read from that line,
# and from scripts/grade run directly.

bats_require_minimum_version 1.5.0

setup_file() {
	make -C "$BATS_TEST_DIRNAME/.." --no-print-directory -s build/grade/probe build/grade/jail build/sigtrace \
		build/solution/server >&2
}

setup() {
	load 'test_helper/common'
	GRADE=$ROOT/scripts/grade
}

teardown() { teardown_processes; }

# make_grade SERVER: `make grade SERVER=SERVER`, bounded; sets $status and $output.
make_grade() { run timeout 120 make -C "$ROOT" --no-print-directory grade SERVER="$1"; }

# grader_status N: make said the grader's recipe ended with status N.
grader_status() {
	assert_equal "$status" 2
	assert_output --regexp "\\*\\*\\* \\[[^]]*grade\\] Error $1"
}

# write_server NAME: standard input saved as $BATS_TEST_TMPDIR/NAME.c.
write_server() { cat >"$BATS_TEST_TMPDIR/$1.c"; }

# status_of PID: wait for PID (a child of this shell) and print its status.
status_of() {
	local rc=0
	wait "$1" || rc=$?
	echo "$rc"
}

# leads_session PID: PID is the leader of its own session and process group
# (or has already ended: then there is nothing left to check).
leads_session() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	read -r _ _ pgid sid _ <<<"$stat"
	[[ $sid == "$1" && $pgid == "$1" ]]
}

# start_in_session COMMAND...: COMMAND in the background as the leader of a
# session of its own (pid in $LEADER), so that everything it starts can be
# found by session id, and its process group signalled as a terminal would.
start_in_session() {
	setsid env --default-signal=INT "$@" >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null 3>&- &
	LEADER=$!
	BG_PIDS+=("$LEADER")
	# A background job is not a group leader, so setsid does not fork; but
	# it runs only once the job has started: wait for it.
	wait_for 10 leads_session "$LEADER"
}

# A probe of session $LEADER has its sandbox running; nothing of the session
# is (the grader, its probes and the sandboxes' outer processes stay in its
# session; what runs inside a sandbox dies with it).
session_sandbox_running() { pgrep -s "$LEADER" -x probe >/dev/null && pgrep -s "$LEADER" -x bwrap >/dev/null; }
session_empty() { ! pgrep -s "$LEADER" >/dev/null; }

# sandbox_empty PID: nothing runs as the uid that a grader of pid PID gives
# its sandboxes when it runs as root (nothing to check otherwise).
sandbox_empty() {
	((EUID == 0)) || return 0
	! pgrep -U "$((1900000000 + $1))" >/dev/null
}

# hostile NAME: tests/fixtures/hostile/NAME.c and common.h as a student's
# directory, $BATS_TEST_TMPDIR/NAME, with @ROOT@, @HOME@, @HOSTPORT@ and
# @NAME@ replaced by the kit's path, $HOME, $HOSTPORT and $NAME.
hostile() {
	local dir=$BATS_TEST_TMPDIR/$1 home=${HOME:-/nonexistent}
	# A HOME of / or /tmp (a bare environment's) names what the sandbox has of its own.
	[[ $home != / && $home != /tmp ]] || home=/nonexistent
	mkdir -p "$dir"
	sed -e "s|@ROOT@|$ROOT|g" -e "s|@HOME@|$home|g" -e "s|@HOSTPORT@|${HOSTPORT:-1}|g" \
		-e "s|@NAME@|${NAME:-hostile}|g" "$ROOT/tests/fixtures/hostile/$1.c" >"$dir/$1.c"
	cp "$ROOT/tests/fixtures/hostile/common.h" "$dir/"
	echo "$dir"
}

@test "grade: lab 1 fails, killed by SIGPIPE, and the trace shows the failed send and the signal" {
	make_grade labs/1-naive/server.c
	grader_status 1
	assert_line 'FAIL leaves-normally: the server was killed by SIGPIPE (status 141) after a client left normally'
	assert_line --regexp '^FAIL leaves-mid-reply: the server was killed by SIGPIPE \(status 141\)'
	assert_line --regexp '^FAIL client-killed: the server was killed by SIGPIPE \(status 141\)'
	assert_line --regexp '^FAIL abort-before-send: the server was killed by SIGPIPE \(status 141\)'
	assert_line '    server: killed by SIGPIPE (status 141)'
	assert_line --regexp '^ +[0-9.]+ +server +send\([0-9]+, "done\\n", 5\) = -1 EPIPE'
	assert_line --regexp '^ +[0-9.]+ +server +SIGPIPE \(default: terminate\)'
	refute_line --regexp '^PASS'
	assert_line --regexp '^grade: 0 of 12 scenarios passed, 12 failed; 0 of 90 points'
}

@test "grade: lab 2 fails: no replies, and the server spins once a client has gone" {
	make_grade labs/2-send-removed/server.c
	grader_status 1
	assert_line --regexp '^FAIL leaves-normally: a client was not served: 0 of 1 replies within 1.0 s; the server spins after a client left normally: runnable [0-9.]+ s of every second'
	assert_line --regexp '^FAIL abort-before-send: the server spins'
	assert_line --regexp '^    cpu: over 0\.[0-9]+ s its 1 task ran [0-9.]+ s and waited [0-9.]+ s for a CPU: runnable [0-9.]+ s/s'
	assert_line --regexp '^    state: looked [0-9]+ times, found (0\.[5-9]|1\.)[0-9]* tasks running or ready to run each time'
	assert_line --regexp '^    context switches: [0-9]+ voluntary .*: its system calls return at once$'
	refute_output --partial 'killed by'
	refute_line --regexp '^PASS'
}

@test "grade: lab 3 fails: it spins after every kind of leaving, and never serves a second client" {
	make_grade labs/3-sig-ign/server.c
	grader_status 1
	local name
	for name in leaves-normally leaves-mid-reply client-killed unread-reply-rst abort-before-send abort-after-send; do
		assert_line --regexp "^FAIL $name: the server spins after "
	done
	assert_line --regexp '^FAIL second-client: a second client got no reply while the first stayed connected and idle'
	refute_output --partial 'killed by'
	refute_line --regexp '^PASS'
}

@test "grade: lab 4 survives clients that leave, but not a reset before the first send, nor two clients at once" {
	make_grade labs/4-handler/server.c
	grader_status 1
	assert_line 'PASS leaves-normally'
	assert_line 'PASS client-killed'
	assert_line 'PASS abort-after-send'
	assert_line --regexp '^FAIL abort-before-send: the server was killed by SIGPIPE \(status 141\) after a client reset the connection before sending anything'
	assert_line --regexp '^ +[0-9.]+ +server +recv\([0-9]+, 4096\) = -1 ECONNRESET'
	assert_line --regexp '^FAIL many-clients: 1 of 20 clients connected at once got their 3 replies'
	assert_line --regexp '^FAIL second-client: a second client got no reply while the first stayed connected and idle'
	assert_line --regexp '^FAIL long-line: a line of 10000 bytes got [2-9] replies'
}

@test "grade: the solution passes every scenario" {
	run timeout 120 make -C "$ROOT" --no-print-directory -s grade SERVER=solution/server.c
	assert_success
	local name
	while read -r name; do
		assert_line "PASS $name"
	done < <("$ROOT/build/grade/probe" --list)
	refute_line --regexp '^FAIL'
	assert_line --regexp '^grade: 12 of 12 scenarios passed, 0 failed; 90 of 90 points \(full profile'
	assert_line --regexp '^total +90/90$'
}

# write_forking_server NAME FAMILY: a correct server the grader has never
# seen, forking a process per client, listening on every IPv4 address
# (FAMILY inet) or on ::1 only (FAMILY inet6).
write_forking_server() {
	local listen
	case $2 in
	inet) listen='int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};' ;;
	inet6) listen='int s = socket(AF_INET6, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(atoi(argv[1])),
                             .sin6_addr = IN6ADDR_LOOPBACK_INIT};' ;;
	esac
	write_server "$1" <<EOF
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    signal(SIGCHLD, SIG_IGN); /* children reap themselves */
    $listen
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0) {
        perror("server");
        return 1;
    }
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        if (fork() == 0) {
            char buf[4096];
            ssize_t n;
            while ((n = recv(c, buf, sizeof buf, 0)) > 0)
                for (ssize_t i = 0; i < n; i++)
                    if (buf[i] == '\n' && send(c, "done\n", 5, MSG_NOSIGNAL) < 0)
                        _exit(0);
            _exit(0);
        }
        close(c);
    }
}
EOF
}

@test "grade: a server it has never seen, forking a process per client, passes and leaves no child behind" {
	write_forking_server forking inet
	start_in_session "$GRADE" "$BATS_TEST_TMPDIR/forking.c"
	wait_for 120 gone "$LEADER"
	cat "$BATS_TEST_TMPDIR/out" # shown if the test fails
	assert_equal "$(status_of "$LEADER")" 0
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^grade: 12 of 12 scenarios passed'
	wait_for 5 session_empty
	wait_for 5 sandbox_empty "$LEADER"
}

@test "grade: a server listening on IPv6 loopback only (::1) is reached there, and graded like any other" {
	write_forking_server ipv6 inet6
	start_in_session "$GRADE" "$BATS_TEST_TMPDIR/ipv6.c"
	wait_for 120 gone "$LEADER"
	cat "$BATS_TEST_TMPDIR/out" # shown if the test fails
	assert_equal "$(status_of "$LEADER")" 0
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^grade: 12 of 12 scenarios passed'
}

@test "grade: a child that spins in a session of its own is caught: every task the server started is counted" {
	start_in_session "$GRADE" --no-trace --only leaves-normally "$(hostile spin-child)"
	wait_for 60 gone "$LEADER"
	cat "$BATS_TEST_TMPDIR/out" # shown if the test fails
	assert_equal "$(status_of "$LEADER")" 1
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^FAIL leaves-normally: the server spins after a client left normally: runnable (0\.[5-9]|[1-9])[0-9.]* s of every second'
	assert_line --regexp '^    cpu: over [0-9.]+ s its 2 tasks ran'
	wait_for 5 session_empty
	wait_for 5 sandbox_empty "$LEADER"
}

@test "grade: a server that hard-codes its port fails, told the port it was given and the one it took" {
	run timeout 60 "$GRADE" --no-trace --port 23456 --only leaves-normally "$(hostile port4242)"
	assert_failure 1
	assert_line 'FAIL leaves-normally: the server did not listen on port 23456 (its first argument) within 5 s'
	assert_line '    it listens on port 4242 instead: it must take the port from argv[1]'
}

@test "grade: the port is picked by the grader, neither 3333 nor 4242, the same for every scenario of a grading" {
	write_server echo-port <<'EOF2'
#include <stdio.h>
int main(int argc, char *argv[]) { fprintf(stderr, "port=%s\n", argc > 1 ? argv[1] : "none"); return 3; }
EOF2
	run timeout 60 "$GRADE" --no-trace --only leaves-normally --only abort-before-send "$BATS_TEST_TMPDIR/echo-port.c"
	assert_failure 1
	local ports
	ports=$(grep -oE "server's stderr: port=[0-9]+" <<<"$output" | sort -u)
	assert_equal "$(wc -l <<<"$ports")" 1
	[[ ! $ports =~ =(3333|4242)$ ]]
}

@test "grade: where the kernel forbids the sandbox, it refuses to run student code (exit 3), and says why and how to override" {
	# A user namespace of our own whose limit forbids further network namespaces.
	unshare -Ur true 2>/dev/null || skip "user namespaces are not allowed here"
	# shellcheck disable=SC2016 # expanded by the inner bash
	run timeout 60 unshare -Ur bash -c 'echo 0 >/proc/sys/user/max_net_namespaces &&
		! unshare -n true 2>/dev/null &&
		exec "$1" --no-trace --only leaves-normally "$2"' _ "$GRADE" "$ROOT/labs/4-handler/server.c"
	assert_failure 3
	assert_output --regexp '^grade: the sandbox cannot be made here: .*; refusing to run a student.s code outside a sandbox \(--unsafe runs it with your rights: only for code you trust\)'
	refute_line --partial 'compiling'
}

@test "grade: with --unsafe where no sandbox can be made, it warns, and runs the scenarios on a free port of the host's loopback" {
	unshare -Ur true 2>/dev/null || skip "user namespaces are not allowed here"
	# shellcheck disable=SC2016 # expanded by the inner bash
	run timeout 60 unshare -Ur bash -c 'echo 0 >/proc/sys/user/max_net_namespaces &&
		! unshare -n true 2>/dev/null &&
		exec "$1" --unsafe --no-trace --only leaves-normally --only abort-before-send "$2"' _ "$GRADE" \
		"$ROOT/labs/4-handler/server.c"
	assert_failure 1
	assert_line --regexp '^grade: warning: --unsafe: the sandbox cannot be made here: .*the student.s code runs UNSANDBOXED, with your rights$'
	assert_line 'PASS leaves-normally'
	assert_line --regexp '^FAIL abort-before-send: the server was killed by SIGPIPE \(status 141\)'
}

@test "grade: started with SIGPIPE ignored, the grader still gives the server SIGPIPE's default action" {
	# shellcheck disable=SC2016 # expanded by the inner bash
	run timeout 30 bash -c 'trap "" PIPE; exec "$1" --no-trace --only leaves-normally "$2"' _ "$GRADE" \
		"$ROOT/labs/1-naive/server.c"
	assert_failure 1
	assert_line --regexp '^FAIL leaves-normally: the server was killed by SIGPIPE \(status 141\)'
}

@test "grade: without SERVER, make grade says how to name one, and the grader exits 2" {
	run timeout 30 make -C "$ROOT" --no-print-directory grade
	grader_status 2
	assert_output --partial 'grade: which server? give its source: make grade SERVER=path/to/server.c'
	run "$GRADE"
	assert_failure 2
	run "$GRADE" --help
	assert_success
	assert_output --regexp 'abort-before-send +10 sigpipe,full +a client resets \(SO_LINGER \{1,0\}\) right after connecting'
}

@test "grade: a missing file, a directory and a file that is not C are refused with exit 2" {
	run "$GRADE" "$BATS_TEST_TMPDIR/nowhere.c"
	assert_failure 2
	assert_output --partial 'nowhere.c: no such file (check the path'
	mkdir "$BATS_TEST_TMPDIR/empty"
	run "$GRADE" "$BATS_TEST_TMPDIR/empty"
	assert_failure 2
	assert_output --partial 'a directory with no .c file in it'
	run "$GRADE" --profile lenient "$ROOT/solution/server.c"
	assert_failure 2
	assert_output --partial "no profile 'lenient' (the profiles are sigpipe and full)"
	run "$GRADE" "$ROOT/labs/scenario"
	assert_failure 2
	assert_output --partial 'not a C source file (the name must end in .c)'
	run "$GRADE" --only no-such-scenario "$ROOT/solution/server.c"
	assert_failure 2
	assert_output --partial "no scenario 'no-such-scenario'"
}

@test "grade: a server that does not compile is reported with the compiler's message and exit 2" {
	write_server broken <<'EOF'
int main(void) { return undeclared_thing; }
EOF
	make_grade "$BATS_TEST_TMPDIR/broken.c"
	grader_status 2
	assert_output --partial 'undeclared_thing'
	assert_output --partial 'broken.c does not compile (the compiler'"'"'s messages are above): fix them and grade again'
	refute_line --regexp '^(PASS|FAIL)'
}

@test "grade: SIGINT to the grader mid-run ends it with 130, and no server, sandbox or probe of it survives" {
	start_in_session "$GRADE" --no-trace "$ROOT/solution/server.c"
	wait_for 30 session_sandbox_running
	local work
	work=$(pgrep -a -s "$LEADER" -x bwrap | grep -oE '/[^ ]*/grade\.[A-Za-z0-9]+/' | head -n 1)
	[[ -n $work ]]
	kill -INT "$LEADER"
	wait_for 10 gone "$LEADER"
	cat "$BATS_TEST_TMPDIR/out" # shown if the test fails
	assert_equal "$(status_of "$LEADER")" 130
	wait_for 5 session_empty
	wait_for 5 sandbox_empty "$LEADER"
	assert_not_exist "$work"
}

@test "grade: Ctrl-C (SIGINT to make's whole process group) leaves no server, sandbox or probe behind" {
	start_in_session make -C "$ROOT" --no-print-directory -s grade SERVER=solution/server.c
	wait_for 30 session_sandbox_running
	kill -INT -- "-$LEADER"
	wait_for 10 gone "$LEADER"
	assert_not_equal "$(status_of "$LEADER")" 0
	wait_for 5 session_empty
}

# Hostile servers: each attack contained, each server judged on what it does.

@test "grade: a server that tampers with the kit changes nothing: the probe, the jail and the scripts are out of its sight" {
	local sums
	sums=$(sha256sum "$ROOT/build/grade/probe" "$ROOT/build/grade/jail" "$ROOT/scripts/grade")
	run timeout 60 "$GRADE" --no-trace --only leaves-normally --only second-client "$(hostile tamper)"
	assert_failure 1
	assert_line 'PASS leaves-normally'
	assert_line --regexp '^FAIL second-client: a second client got no reply'
	assert_equal "$(sha256sum "$ROOT/build/grade/probe" "$ROOT/build/grade/jail" "$ROOT/scripts/grade")" "$sums"
	assert_not_exist "$ROOT/TAMPERED"
}

@test "grade: a server that snoops finds no environment but PATH and LANG, no file of the machine's, and not the host's loopback" {
	HOSTPORT=$(free_port)
	spawn "$BATS_TEST_TMPDIR/host-service.out" "$BUILD/solution/server" "$HOSTPORT" </dev/null
	wait_for 5 listening "$HOSTPORT"
	run env GRADE_SECRET=hunter2 SSH_AUTH_SOCK=/tmp/agent.sock timeout 60 "$GRADE" --no-trace --only leaves-normally \
		"$(hostile snoop)"
	assert_success
	assert_line 'PASS leaves-normally'
	refute_output --partial 'hunter2'
}

@test "grade: a server whose child leaves its process group to outlive it fails, the child named, and nothing is left" {
	NAME=lingers$RANDOM
	start_in_session "$GRADE" --no-trace --only leaves-normally "$(hostile outlive)"
	wait_for 60 gone "$LEADER"
	cat "$BATS_TEST_TMPDIR/out" # shown if the test fails
	assert_equal "$(status_of "$LEADER")" 1
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line 'FAIL leaves-normally: a process the server started outlived it (it left the server'"'"'s process group)'
	assert_line --regexp "^    left behind: pid [0-9]+ \"$NAME\" \\(state S, process group [0-9]+, parent [0-9]+\\), killed now$"
	wait_for 5 session_empty
	run pgrep -x "$NAME"
	assert_failure 1
}

@test "grade: a server that hangs, never listening and deaf to SIGTERM, is reported as such and killed, within bounds" {
	start_in_session timeout 60 "$GRADE" --no-trace --only leaves-normally --only abort-before-send "$(hostile hang)"
	wait_for 60 gone "$LEADER"
	cat "$BATS_TEST_TMPDIR/out" # shown if the test fails
	assert_equal "$(status_of "$LEADER")" 1
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^FAIL leaves-normally: the server did not listen on port [0-9]+ \(its first argument\) within 5 s$'
	assert_line --regexp '^    it runs, listening nowhere: pid [0-9]+ "server", state S, waiting in the kernel.s [a-z_]*pause'
	assert_line --regexp '^FAIL abort-before-send: the server did not listen'
	wait_for 5 session_empty
	wait_for 5 sandbox_empty "$LEADER"
}

@test "grade: #include \"/dev/stdin\" does not hold the compiler: it fails at once, exit 2" {
	run timeout 60 "$GRADE" --no-trace "$(hostile stdin-include)"
	assert_failure 2
	assert_output --partial 'does not compile'
}

@test "grade: #include \"/dev/zero\" meets the compiler's memory limit: exit 2, and the limit named" {
	run timeout 60 "$GRADE" --no-trace "$(hostile zero-include)"
	assert_failure 2
	assert_output --regexp 'the compiler ran out of memory \(limit [0-9]+ MB: does it #include a file that never ends'
}

@test "grade: #include \"/etc/shadow\" finds no such file: the compiler sees the student's file and the system headers only" {
	run timeout 60 "$GRADE" --no-trace "$(hostile shadow-include)"
	assert_failure 2
	assert_output --partial '/etc/shadow: No such file or directory'
	refute_output --regexp 'root:'
}

@test "grade: a server that leaks a descriptor per client fails descriptors-closed, with the numbers" {
	run timeout 60 "$GRADE" --no-trace --only descriptors-closed --only leaves-normally "$(hostile leak)"
	assert_failure 1
	assert_line --regexp '^FAIL descriptors-closed: the server keeps a descriptor per client: ([0-9]+) open after 20 clients came and went, [0-9]+ before$'
	assert_line --regexp '^    descriptors: [0-9]+ before the clients, [0-9]+ after \(\+(19|20|21) for 20 clients; limit \+9\)'
	assert_line --regexp '^    connections to port [0-9]+ in CLOSE-WAIT \(the client closed, the server never did\): (19|20)$'
	assert_line 'PASS leaves-normally'
}

@test "grade: a server that never reaps its children fails children-reaped, with the number of zombies" {
	run timeout 60 "$GRADE" --no-trace --only children-reaped "$(hostile zombies)"
	assert_failure 1
	assert_line --regexp '^FAIL children-reaped: the server leaves its children unreaped: (19|20) zombies after 20 clients came and went$'
	assert_line --regexp '^    zombie: pid [0-9]+ "server", child of pid [0-9]+, which never waited for it$'
}

@test "grade: a fork bomb meets the process limit: it fails, and nothing of it is left" {
	start_in_session "$GRADE" --no-trace --only leaves-normally "$(hostile forkbomb)"
	wait_for 60 gone "$LEADER"
	cat "$BATS_TEST_TMPDIR/out" # shown if the test fails
	assert_equal "$(status_of "$LEADER")" 1
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^FAIL leaves-normally: '
	assert_line --regexp '^    cpu: over [0-9.]+ s its 1[0-2][0-9] tasks'
	wait_for 5 session_empty
	wait_for 5 sandbox_empty "$LEADER"
}

@test "grade: nothing the server writes reaches the terminal raw: control bytes are escaped, in its stderr and the compiler's messages" {
	printf '%s\n' '#include <stdio.h>' \
		'int main(void) { fputs("\033]0;owned\007\033[2J caf\303\251\n", stderr); return 1; }' \
		>"$BATS_TEST_TMPDIR/esc.c"
	run timeout 60 "$GRADE" --no-trace --only leaves-normally "$BATS_TEST_TMPDIR/esc.c"
	assert_failure 1
	assert_line --partial "server's stderr: \\x1b]0;owned\\x07\\x1b[2J café\\n"
	refute_output --regexp $'[\x01-\x08\x0b-\x1f\x7f]'
	printf 'int main(void) { return 0 \033[31m }\n' >"$BATS_TEST_TMPDIR/esc-cc.c"
	run timeout 60 "$GRADE" --no-trace "$BATS_TEST_TMPDIR/esc-cc.c"
	assert_failure 2
	assert_output --partial '\x1b[31m'
	refute_output --regexp $'[\x01-\x08\x0b-\x1f\x7f]'
}

# Profiles and points.

@test "grade: the minimal lab 1 fix that docs/answers.md teaches passes --profile sigpipe, 60 of 60 points" {
	run timeout 120 "$GRADE" --no-trace --profile sigpipe "$ROOT/tests/fixtures/grade/lab1-minimal-fix.c"
	assert_success
	assert_line --regexp '^grade: 6 of 6 scenarios passed, 0 failed; 60 of 60 points \(sigpipe profile'
	refute_line --regexp '^FAIL'
}

@test "grade: under --profile full the minimal lab 1 fix fails only what no worksheet asks: long lines and two clients at once" {
	run timeout 120 "$GRADE" --no-trace "$ROOT/tests/fixtures/grade/lab1-minimal-fix.c"
	assert_failure 1
	assert_equal "$(grep -c '^FAIL' <<<"$output")" 3
	assert_line --regexp '^FAIL long-line: '
	assert_line --regexp '^FAIL many-clients: '
	assert_line --regexp '^FAIL second-client: '
	assert_line --regexp '^grade: 9 of 12 scenarios passed, 3 failed; 75 of 90 points \(full profile'
}

@test "grade: --format gradescope prints Gradescope's results.json: a test per scenario with name, score, max_score, output" {
	run --separate-stderr timeout 60 "$GRADE" --no-trace --format gradescope --only leaves-normally --only long-line \
		"$ROOT/labs/4-handler/server.c"
	assert_failure 1
	run jq -r '.score, (.tests[] | [.name, .score, .max_score, (.output | split("\n")[0])] | @tsv)' <<<"$output"
	assert_success
	assert_line --index 0 10
	assert_line --index 1 $'leaves-normally: a client sends a line, reads its done, and closes\t10\t10\tPASS leaves-normally'
	assert_line --index 2 --regexp $'^long-line: .*\t0\t5\tFAIL long-line: '
}

# A class at once.

# class STUDENT=SOURCE...: a directory of submissions, $BATS_TEST_TMPDIR/class,
# each STUDENT's a copy of SOURCE (a .c file, or a directory).
class() {
	local pair
	mkdir -p "$BATS_TEST_TMPDIR/class"
	for pair in "$@"; do
		cp -r "${pair#*=}" "$BATS_TEST_TMPDIR/class/${pair%%=*}$([[ -d ${pair#*=} ]] || echo .c)"
	done
}

@test "grade-all: a class in parallel: a CSV gradebook, a report per student, and the verdicts each gets alone" {
	write_server broken <<'EOF2'
int main(void) { return undeclared_thing; }
EOF2
	class alice="$ROOT/labs/1-naive/server.c" bob="$ROOT/tests/fixtures/grade/lab1-minimal-fix.c" \
		carol="$(hostile zombies)" dave="$BATS_TEST_TMPDIR/broken.c"
	run timeout 300 "$ROOT/scripts/grade-all" --profile sigpipe --no-trace --out "$BATS_TEST_TMPDIR/grades" \
		"$BATS_TEST_TMPDIR/class"
	assert_success
	run cat "$BATS_TEST_TMPDIR/grades/gradebook.csv"
	assert_line --index 0 'student,total,maximum,leaves-normally,leaves-mid-reply,client-killed,unread-reply-rst,abort-before-send,abort-after-send'
	assert_line --index 1 'alice,0,60,0,0,0,0,0,0'
	assert_line --index 2 'bob,60,60,10,10,10,10,10,10'
	assert_line --index 3 'carol,60,60,10,10,10,10,10,10'
	assert_line --index 4 'dave,0,60,0,0,0,0,0,0'
	assert_file_exist "$BATS_TEST_TMPDIR/grades/reports/carol.txt"
	run grep -h '^grade: ' "$BATS_TEST_TMPDIR/grades/reports/alice.txt" "$BATS_TEST_TMPDIR/grades/reports/dave.txt"
	assert_line --regexp '^grade: 0 of 6 scenarios passed, 6 failed; 0 of 60 points'
	assert_line --regexp 'does not compile'
	# Alone, bob gets what the gradebook says.
	run timeout 120 "$GRADE" --no-trace --profile sigpipe "$BATS_TEST_TMPDIR/class/bob.c"
	assert_line --regexp '^grade: 6 of 6 scenarios passed, 0 failed; 60 of 60 points'
}

@test "grade-all --format gradescope: a results.json per student, a compile error included" {
	write_server broken <<'EOF2'
int main(void) { return undeclared_thing; }
EOF2
	class ann="$ROOT/solution" ben="$BATS_TEST_TMPDIR/broken.c"
	run timeout 300 "$ROOT/scripts/grade-all" --format gradescope --only leaves-normally --no-trace \
		--out "$BATS_TEST_TMPDIR/grades" "$BATS_TEST_TMPDIR/class"
	assert_success
	run jq -c '[.score, [.tests[] | [.name, .score, .max_score]]]' "$BATS_TEST_TMPDIR/grades/results/ann/results.json"
	assert_output '[10,[["leaves-normally: a client sends a line, reads its done, and closes",10,10]]]'
	run jq -r '.score, .output' "$BATS_TEST_TMPDIR/grades/results/ben/results.json"
	assert_line --index 0 0
	assert_output --partial 'undeclared_thing'
}

@test "grade-all: eight spinning servers graded at once all fail, whatever the load they make" {
	local i pairs=()
	for i in 1 2 3 4 5 6 7 8; do pairs+=("spinner$i=$ROOT/labs/3-sig-ign/server.c"); done
	class "${pairs[@]}"
	run timeout 300 "$ROOT/scripts/grade-all" --jobs 8 --only leaves-normally --no-trace \
		--out "$BATS_TEST_TMPDIR/grades" "$BATS_TEST_TMPDIR/class"
	assert_success
	run cat "$BATS_TEST_TMPDIR/grades/gradebook.csv"
	for i in 1 2 3 4 5 6 7 8; do
		assert_line "spinner$i,0,10,0"
	done
	run grep -c '^FAIL leaves-normally: .*the server spins after a client left normally' \
		"$BATS_TEST_TMPDIR"/grades/reports/spinner*.txt
	refute_output --regexp ':0$'
}

@test "grade-all: without DIR, make grade-all says how to name one" {
	run timeout 30 make -C "$ROOT" --no-print-directory grade-all
	assert_equal "$status" 2
	assert_output --partial 'grade-all: which class? give the directory of submissions: make grade-all DIR=submissions/'
}
