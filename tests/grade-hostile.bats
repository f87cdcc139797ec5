#!/usr/bin/env bats
# Hostile servers (tests/fixtures/hostile/): each attack contained, each server
# judged on what it does.

bats_require_minimum_version 1.5.0

load 'test_helper/grade'

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
