#!/usr/bin/env bats
# The grader on the kit's own servers: `make grade SERVER=path/to/server.c`
# compiles a server and runs it through every scenario, each against a fresh
# server, both in a sandbox. Each lab fails it for its own reasons, and the
# solution passes.

bats_require_minimum_version 1.5.0

load 'test_helper/grade'

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
	# The recv whole, or the second half of one split around the RST it waited for.
	assert_line --regexp '^ +[0-9.]+ +server +(recv\([0-9]+, 4096\)|\.\.\. recv resumed) = -1 ECONNRESET'
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
