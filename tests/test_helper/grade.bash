# The grader's tests: their setup, and the helpers they share. `load
# 'test_helper/grade'` at the top of a grade*.bats file gives it setup_file (the
# probe, the jail, the tracer and the solution built), setup and teardown.
#
# make reports a failed recipe as "Error N" (N the grader's status) and exits
# 2 itself, whatever N was: the grader's own status is read from that line,
# and from scripts/grade run directly.

# shellcheck disable=SC2034,SC2154 # GRADE and LEADER are for the files that load this one; status is set by run

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

