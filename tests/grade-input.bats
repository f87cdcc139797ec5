#!/usr/bin/env bats
# The grader's refusals and interruptions: no sandbox, no server, a file that
# is not C or does not compile, an #include that reaches for the machine, and a
# grader interrupted mid-run that leaves no process behind.

bats_require_minimum_version 1.5.0

load 'test_helper/grade'

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
	# A sandbox of the grader's is running, and its command line names the
	# grader's scratch directory (one check: a sandbox ends between scenarios).
	local work=''
	sandbox_work() {
		pgrep -s "$LEADER" -x probe >/dev/null &&
			work=$(pgrep -a -s "$LEADER" -x bwrap | grep -oE '/[^ ]*/grade\.[A-Za-z0-9]+/' | head -n 1) &&
			[[ -n $work ]]
	}
	wait_for 30 sandbox_work
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
