#!/usr/bin/env bats
# The grader: `make grade SERVER=path/to/server.c` compiles a server and runs
# it through every scenario, each against a fresh server. Each lab fails it
# for its own reasons, the solution passes, bad input is refused with exit 2,
# and an interrupted grader leaves no process behind.
#
# make reports a failed recipe as "Error N" (N the grader's status) and exits
# 2 itself, whatever N was: the grader's own status is read from that line,
# and from scripts/grade run directly.

setup_file() {
	make -C "$BATS_TEST_DIRNAME/.." --no-print-directory -s build/grade/probe build/sigtrace >&2
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

# start_in_session COMMAND...: COMMAND in the background as the leader of a
# session of its own (pid in $LEADER), so that everything it starts can be
# found by session id, and its process group signalled as a terminal would.
start_in_session() {
	setsid env --default-signal=INT "$@" >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null 3>&- &
	LEADER=$!
	BG_PIDS+=("$LEADER")
	# A background job is not a group leader, so setsid did not fork.
	local stat
	stat=$(cat "/proc/$LEADER/stat")
	stat=${stat##*) }
	read -r _ _ pgid sid _ <<<"$stat"
	assert_equal "$sid" "$LEADER"
	assert_equal "$pgid" "$LEADER"
}

# A server started by a probe of session $LEADER is running; nothing of the
# session is (the grader's probes and servers stay in its session).
session_server_running() { pgrep -s "$LEADER" -x server >/dev/null; }
session_empty() { ! pgrep -s "$LEADER" >/dev/null; }

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
	assert_line --regexp '^grade: 0 of 10 scenarios passed, 10 failed'
}

@test "grade: lab 2 fails: no replies, and the server spins once a client has gone" {
	make_grade labs/2-send-removed/server.c
	grader_status 1
	assert_line --regexp '^FAIL leaves-normally: a client was not served: 0 of 1 replies within 1.0 s; the server spins after a client left normally: [0-9.]+ CPU-seconds per second'
	assert_line --regexp '^FAIL abort-before-send: the server spins'
	assert_line --regexp '^    cpu: [0-9]+ ticks at [0-9]+ Hz in 0\.[0-9]+ s = [0-9.]+ s/s'
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
	assert_line --regexp '^grade: 10 of 10 scenarios passed, 0 failed'
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
	assert_equal "$(status_of "$LEADER")" 0
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^grade: 10 of 10 scenarios passed'
	wait_for 5 session_empty
}

@test "grade: a server listening on IPv6 loopback only (::1) is reached there, and graded like any other" {
	write_forking_server ipv6 inet6
	start_in_session "$GRADE" "$BATS_TEST_TMPDIR/ipv6.c"
	wait_for 120 gone "$LEADER"
	assert_equal "$(status_of "$LEADER")" 0
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^grade: 10 of 10 scenarios passed'
}

@test "grade: a forking server whose child spins is caught: CPU is counted over the server's process group" {
	write_server spinning-child <<'EOF'
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    signal(SIGCHLD, SIG_IGN);
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0)
        return 1;
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c >= 0 && fork() == 0) {
            char buf[4096];
            for (;;) /* lab 3's bug, in the child: recv() == 0 is never noticed */
                if (recv(c, buf, sizeof buf, 0) > 0)
                    send(c, "done\n", 5, MSG_NOSIGNAL);
        }
        if (c >= 0)
            close(c);
    }
}
EOF
	start_in_session "$GRADE" --only leaves-normally "$BATS_TEST_TMPDIR/spinning-child.c"
	wait_for 30 gone "$LEADER"
	assert_equal "$(status_of "$LEADER")" 1
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^FAIL leaves-normally: the server spins after a client left normally: [0-9.]+ CPU-seconds per second'
	wait_for 5 session_empty
}

@test "grade: a server that ignores its port argument is told where it listens instead" {
	write_server port3333 <<'EOF'
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(3333)};
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 10) < 0)
        return 1;
    for (;;)
        pause();
}
EOF
	run timeout 30 "$GRADE" --only leaves-normally "$BATS_TEST_TMPDIR/port3333.c"
	assert_failure 1
	assert_line --regexp '^FAIL leaves-normally: the server did not listen on port 4242 \(its first argument\)'
	assert_line '    it listens on port 3333 instead: it must take the port from argv[1]'
}

@test "grade: where no network namespace can be made, the scenarios run on a free port of the host's loopback" {
	# A user namespace of our own whose limit forbids further network namespaces.
	unshare -Ur true 2>/dev/null || skip "user namespaces are not allowed here"
	# shellcheck disable=SC2016 # expanded by the inner bash
	run timeout 60 unshare -Ur bash -c 'echo 0 >/proc/sys/user/max_net_namespaces &&
		! unshare -n true 2>/dev/null &&
		exec "$1" --no-trace --only leaves-normally --only abort-before-send "$2"' _ "$GRADE" \
		"$ROOT/labs/4-handler/server.c"
	assert_failure 1
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
	assert_output --partial 'abort-before-send  a client resets (SO_LINGER {1,0}) right after connecting'
}

@test "grade: a missing file, a directory and a file that is not C are refused with exit 2" {
	run "$GRADE" "$BATS_TEST_TMPDIR/nowhere.c"
	assert_failure 2
	assert_output --partial 'nowhere.c: no such file (check the path'
	run "$GRADE" "$ROOT/solution"
	assert_failure 2
	assert_output --partial 'not a regular file'
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

@test "grade: SIGINT to the grader mid-run ends it with 130, and no server or probe of it survives" {
	start_in_session "$GRADE" --no-trace "$ROOT/solution/server.c"
	wait_for 30 session_server_running
	local work
	work=$(pgrep -a -s "$LEADER" -x server | grep -oE '/[^ ]*/grade\.[A-Za-z0-9]+/server' | head -n 1)
	kill -INT "$LEADER"
	wait_for 10 gone "$LEADER"
	assert_equal "$(status_of "$LEADER")" 130
	wait_for 5 session_empty
	assert_not_exist "${work%/server}"
}

@test "grade: Ctrl-C (SIGINT to make's whole process group) leaves no server or probe behind" {
	start_in_session make -C "$ROOT" --no-print-directory -s grade SERVER=solution/server.c
	wait_for 30 session_server_running
	kill -INT -- "-$LEADER"
	wait_for 10 gone "$LEADER"
	assert_not_equal "$(status_of "$LEADER")" 0
	wait_for 5 session_empty
}
