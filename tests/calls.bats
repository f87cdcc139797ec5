#!/usr/bin/env bats
# Every call that moves data on, changes or closes a socket, and what SIGPIPE
# will do, on the timeline: small programs (tests/fixtures/calls/calls.c) make
# real loopback connections in sigtrace's private network namespace; their
# calls are checked against strace's record of the same program, and the
# notes against what happened on the wire and to the process.
#
# Each test runs in a subshell of its own, where run sets output and stderr:
# shellcheck disable=SC2030,SC2031,SC2154

bats_require_minimum_version 1.5.0

setup() {
	load 'test_helper/common'
	load 'test_helper/trace'
	CALLS=$BUILD/tests/calls/calls
	OUT=$BATS_TEST_TMPDIR
}

teardown() { teardown_processes; }

# traced_calls MODE [STATUS]: run calls MODE under the tracer, asserting the
# tracer's exit status (the command's: 0 unless given). Its JSON is in
# $OUT/MODE.jsonl; $TRACE has each call whole (whole_calls, test_helper/trace).
traced_calls() {
	run --separate-stderr timeout "$RUN_LIMIT" "$SIGTRACE" --netns -o "$OUT/$1.jsonl" -- "$CALLS" "$1" </dev/null 3>&-
	assert_equal "$status" "${2:-0}"
	TRACE=$OUT/$1.whole.jsonl
	whole_calls "$OUT/$1.jsonl" >"$TRACE"
}


# The calls named by the regular expression $1, "name result" a line: as
# sigtrace saw them, and as strace saw them (from the first setsockopt on,
# after the loader's own reads of the program's libraries).
sigtrace_calls() {
	jq -r "select(.type == \"syscall\" and (.syscall | test(\"^($1)\$\"))) | \"\(.syscall) \(.ret)\"" "$TRACE"
}

strace_calls() {
	strace -f -qq -o "$OUT/strace.txt" -e trace="${1//|/,}" "$CALLS" "$2" >/dev/null 2>&1 3>&- || true
	sed -n '/setsockopt(/,$p' "$OUT/strace.txt" |
		sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*\) += (-?[0-9]+).*/\1 \2/p'
}

@test "calls: sendfile, splice, tee, sendmmsg, the pread/pwrite family, dups, fcntl, options and close_range, as strace records them" {
	local names='setsockopt|getsockopt|sendfile|splice|tee|sendmmsg|pread64|pwrite64|preadv|pwritev|dup|dup2|dup3|fcntl|close_range'
	traced_calls data
	sigtrace_calls "$names" >"$OUT/sigtrace.list"
	strace_calls "$names" data >"$OUT/strace.list"
	# Each in strace's order, with strace's result: nothing missing, nothing more.
	run diff "$OUT/strace.list" "$OUT/sigtrace.list"
	assert_success
	assert_equal "$(wc -l <"$OUT/sigtrace.list")" 18
}

@test "calls: arguments and flags are shown as strace writes them" {
	traced_calls data
	local text
	for text in 'sendfile(4, 6, &offset, 8) = 8' 'splice(5, NULL, 8, NULL, 8, 0) = 8' 'dup3(5, 21, O_CLOEXEC) = 21' \
		'fcntl(5, F_DUPFD_CLOEXEC, 30) = 30' 'fcntl(5, F_SETFL, O_NONBLOCK) = 0' \
		'close_range(20, 30, 0) = 0' 'setsockopt(4, IPPROTO_TCP, TCP_NODELAY, [1], 4) = 0' \
		'setsockopt(4, SOL_SOCKET, SO_SNDBUF, [65536], 4) = 0' 'getsockopt(5, SOL_SOCKET, SO_RCVBUF, [' \
		'send(4, "peek", 4, MSG_NOSIGNAL) = 4' 'recv(5, 4, MSG_PEEK) = 4' \
		'recv(5, 4, MSG_DONTWAIT) = -1 EAGAIN' 'accept4(3, SOCK_CLOEXEC) = 5' \
		'sendmmsg(4, &msgvec, 2, 0) = 2' 'recvmmsg(5, &msgvec, 2, MSG_WAITFORONE) = ' \
		'preadv(5, &iov, 1, 0) = -1 ESPIPE' 'tee(5, 8, 8, 0) = -1 EINVAL'; do
		assert_equal "$(count ".type == \"syscall\" and (.text | startswith($(jq -n --arg t "$text" '$t')))")" 1
	done
}

@test "calls: notes of the new calls say what they did, ESPIPE and EINVAL included" {
	traced_calls data
	events '.syscall == "pread64"' | jq -e 'select(.errno == "ESPIPE" and (.note | test("no file position")))'
	events '.syscall == "tee"' | jq -e 'select(.errno == "EINVAL" and (.note | test("between pipes only")))'
	events '.syscall == "sendmmsg"' | jq -e 'select(.note | test("^2 messages handed to the kernel, 4 bytes in all"))'
	events '.call == "recv" and .ret == 4 and (.text | test("MSG_PEEK"))' | jq -e 'select(.note | test("left in place"))'
	events '.syscall == "fcntl" and (.text | test("F_SETFL"))' | jq -e 'select(.note | test("non-blocking now"))'
	# A close of one of two fds of the same socket promises nothing; the last one, a FIN.
	events '.syscall == "close" and .fd == 9' | jq -e 'select(.note | test("other fd of this process still refer"))'
	events '.syscall == "close" and .fd == 5' | jq -e 'select(.note | test("the kernel sends FIN"))'
}

@test "calls: a RST after splice read everything and SO_LINGER {1, 0} is explained by SO_LINGER, not unread data" {
	traced_calls linger
	assert_equal "$(count '.syscall == "splice" and .ret == 8')" 1
	assert_equal "$(count '.syscall == "setsockopt" and (.text | test("l_onoff=1, l_linger=0"))')" 1
	in_order '.syscall == "close" and (.note | test("SO_LINGER"))' \
		'.type == "packet" and (.flags | index("RST"))' \
		'.call == "recv" and .errno == "ECONNRESET"'
	events '.type == "packet" and (.flags | index("RST"))' | jq -e 'select(.note | test("SO_LINGER \\{on, 0 seconds\\}, having read everything"))'
	assert_equal "$(count '.type == "packet" and (.note | test("unread"))')" 0
}

@test "calls: recv() = 0 after a RST and ECONNRESET is not called a FIN" {
	traced_calls reset
	assert_equal "$(count '.type == "packet" and (.flags | index("FIN"))')" 0
	in_order '.type == "packet" and (.flags | index("RST"))' \
		'.call == "send" and .errno == "ECONNRESET"' \
		'.call == "recv" and .ret == 0 and (.note | test("after the reset")) and (.note | test("does not mean the peer sent FIN"))'
	assert_equal "$(count '.call == "recv" and (.note | test("closed its end \\(FIN\\)")))')" 0
}

@test "calls: close() of a dup sends nothing; the FIN follows the last close" {
	traced_calls dup
	in_order '.syscall == "dup"' \
		'.syscall == "close" and (.note | test("still refers? to the same socket"))' \
		'.call == "send"' \
		'.syscall == "close" and (.note | test("the kernel sends FIN"))' \
		'.type == "packet" and (.flags | index("FIN"))'
	# No FIN on the wire between the first close and the send.
	run jq -s '[.[] | select(.type == "packet" or .type == "syscall")] | map(if .type == "packet" then (.flags | index("FIN") != null) else .call end) | index(true) > index("send")' "$TRACE"
	assert_output true
}

@test "calls: close_range() of a socket a forked child holds sends nothing; the FIN comes at the child's close" {
	traced_calls closerange
	local parent child
	# Marked close-on-exec first: nothing closed, nothing said of holders.
	in_order '.text == "close_range(7, ~0U, CLOSE_RANGE_CLOEXEC) = 0" and .note == "every fd from 7 on is marked close-on-exec: nothing is closed now, an exec will close them"' \
		'.text == "close_range(7, ~0U, 0) = 0"'
	parent=$(jq -s -r '[.[] | select(.text == "close_range(7, ~0U, 0) = 0")][0].pid' "$TRACE")
	child=$(jq -s -r '[.[] | select(.text == "close_range(7, ~0U, 0) = 0")][0].note | capture("pid (?<p>[0-9]+) \\(calls\\) still holds it, as fd 7").p' "$TRACE")
	assert [ "$child" -ne "$parent" ]
	in_order ".syscall == \"close_range\" and .ret == 0 and (.note | test(\"fd 7.s socket stays open: pid $child \\\\(calls\\\\) still holds it, as fd 7: nothing is sent now\"))" \
		".syscall == \"close\" and .pid == $child and .fd == 7 and .ret == 0 and (.note | test(\"the kernel sends FIN\"))" \
		'.type == "packet" and (.flags | index("FIN"))' \
		".call == \"recv\" and .pid == $parent and .ret == 0"
	# No FIN on the wire before the child's close; the first one is its, by name.
	run jq -s "(map(.type == \"packet\" and (.flags | index(\"FIN\")) != null) | index(true)) > (map(.syscall == \"close\" and .pid == $child) | index(true))" "$TRACE"
	assert_output true
	run jq -s -r '[.[] | select(.type == "packet" and (.flags | index("FIN")))][0].note' "$TRACE"
	assert_output --regexp '^calls 2 closed its end'
}

@test "calls: a connection handed over with SCM_RIGHTS: the sender's close sends nothing; the receiver's calls are followed and its close sends the FIN" {
	traced_calls pass
	local parent child peer
	parent=$(jq -s -r '[.[] | select(.call == "sendmsg")][0].pid' "$TRACE")
	child=$(jq -s -r '[.[] | select(.call == "recvmsg")][0].pid' "$TRACE")
	peer=$(jq -s -r '[.[] | select(.call == "accept4" and .ret == 4)][0].remote' "$TRACE")
	assert [ "$child" -ne "$parent" ]
	assert_regex "$peer" '^127\.0\.0\.1:[0-9]+$'
	# The accepted fd 4 goes over the socketpair's fd 3, and is closed: the note says it was passed.
	in_order ".pid == $parent and .call == \"accept4\" and .ret == 4" \
		".pid == $parent and .call == \"sendmsg\" and .fd == 3 and .ret == 1 and .passed == [4] and (.text | sub(\" \\\\([0-9.]+ ms\\\\)$\"; \"\")) == \"sendmsg(3, \\\"F\\\", SCM_RIGHTS [4]) = 1\" and (.note | startswith(\"hands over fd 4, the connection to $peer (SCM_RIGHTS)\"))" \
		".pid == $parent and .call == \"close\" and .fd == 4 and .ret == 0 and (.note | test(\"^fd 4 is closed, but its socket was handed to another process .*: then nothing is sent now\"))" \
		".pid == $child and .call == \"recvmsg\" and .fd == 4 and .ret == 1 and .received == [3] and (.note | startswith(\"receives fd 3, the connection to $peer, passed by pid $parent (calls) as its fd 4\"))" \
		".pid == $child and .call == \"write\" and .fd == 3 and .ret == 5 and .data == \"reply\"" \
		".pid == $child and .call == \"close\" and .fd == 3 and .ret == 0 and (.note | test(\"the kernel sends FIN\"))" \
		'.type == "packet" and (.flags | index("FIN"))'
	# The parent's close promises no FIN; the child's UNIX socket calls on their own are not shown.
	assert_equal "$(count ".pid == $parent and .call == \"close\" and .fd == 4 and (.note | test(\"sends FIN\"))")" 0
	assert_equal "$(count '.call == "recvmsg" or .call == "sendmsg"')" 2
	# On the wire: no FIN before the child's close; the reply and the FIN are the child's, by name.
	run jq -s "(map(.type == \"packet\" and (.flags | index(\"FIN\")) != null) | index(true)) > (map(.call == \"close\" and .pid == $child) | index(true))" "$TRACE"
	assert_output true
	run jq -s -r '[.[] | select(.type == "packet" and (.flags | index("FIN")))][0].note' "$TRACE"
	assert_output --regexp '^calls 2 closed its end'
	run jq -s -r '[.[] | select(.type == "packet" and .len == 5)][0].note' "$TRACE"
	assert_output 'calls 2 sends 5 bytes'
	run "$ROOT/scripts/causality" "$OUT/pass.jsonl"
	assert_success
	assert_output --regexp ': 0 violations \(time 0, connect 0, recv 0, epipe 0, sigpipe 0, exit 0\)$'
}

# The hand-over as strace -ff -yy records calls pass, "call fd [fds] ret" and
# then "call fd ret" for the write and close on the TCP socket handed over, a
# line: the sender's process first, then the receiver's (a file each: no call
# split). strace -yy names what each fd is: only TCP sockets count.
strace_handover() {
	local f call
	mkdir -p "$OUT/strace"
	strace -ff -yy -qq -o "$OUT/strace/calls" -e trace=sendmsg,recvmsg,close,write "$CALLS" pass >/dev/null 2>&1 3>&- || true
	for call in sendmsg recvmsg; do
		for f in "$OUT"/strace/calls.*; do
			grep -q "^$call(.*cmsg_data=\[[0-9]*<TCP:" "$f" || continue
			sed -nE -e 's/^(sendmsg|recvmsg)\(([0-9]+)<[^ ]*, .*cmsg_data=\[([0-9]+)<TCP:.* = (-?[0-9]+)$/\1 \2 [\3] \4/p' \
				-e 's/^(write|close)\(([0-9]+)<TCP:.* = (-?[0-9]+)$/\1 \2 \3/p' "$f" |
				sed -n "/^$call /,\$p" |
				awk 'NR == 1 { fd = $3; gsub(/[][]/, "", fd); print; next } $2 == fd'
		done
	done
}

# The same, as sigtrace saw it.
sigtrace_handover() {
	local call key
	for call in sendmsg:passed recvmsg:received; do
		key=${call#*:} call=${call%:*}
		jq -s -r --arg call "$call" --arg key "$key" '
			(to_entries | map(select(.value.call == $call and .value[$key])) | first) as $r
			| .[$r.key:][] | select(.type == "syscall" and .pid == $r.value.pid)
			| if .call == $call and .[$key] then "\(.call) \(.fd) [\(.[$key] | join(" "))] \(.ret)"
			  elif (.call == "write" or .call == "close") and .fd == $r.value[$key][0] then "\(.call) \(.fd) \(.ret)"
			  else empty end' "$TRACE"
	done
}

@test "calls: the SCM_RIGHTS hand-over shows the fds strace records: sendmsg, recvmsg, and the write and close on the fd received" {
	traced_calls pass
	sigtrace_handover >"$OUT/sigtrace.list"
	strace_handover >"$OUT/strace.list"
	run diff "$OUT/strace.list" "$OUT/sigtrace.list"
	assert_success
	run cat "$OUT/sigtrace.list"
	assert_output $'sendmsg 3 [4] 1\nclose 4 0\nrecvmsg 4 [3] 1\nwrite 3 5\nclose 3 0'
	# strace saw two hand-overs each way; the pipe's, which carries no socket, is not shown.
	assert_equal "$(cat "$OUT"/strace/calls.* | grep -cE '^(sendmsg|recvmsg)\(.*SCM_RIGHTS')" 4
	assert_equal "$(count '.call == "recvmsg" or .call == "sendmsg"')" 2
}

@test "calls: SIGPIPE ignored, default, blocked with a signalfd; MSG_NOSIGNAL; the pending SIGPIPE delivered on unblock" {
	traced_calls sigpipe 141
	in_order '.syscall == "rt_sigaction" and (.text | test("SIG_IGN")) and (.note | test("ignored"))' \
		'.syscall == "rt_sigaction" and (.text | test("SIG_DFL")) and (.note | test("default action"))' \
		'.syscall == "rt_sigprocmask" and (.note | test("blocked from now on"))' \
		'.syscall == "signalfd4"' \
		'.call == "send" and .errno == "EPIPE" and (.note | test("MSG_NOSIGNAL was given, so no SIGPIPE"))' \
		'.call == "send" and .errno == "EPIPE" and (.note | test("blocked: it stays pending"))' \
		'.syscall == "rt_sigprocmask" and (.note | test("unblocked"))' \
		'.type == "signal" and .signal == "SIGPIPE" and (.note | test("while SIGPIPE was blocked, delivered now"))' \
		'.type == "exit" and .signal == "SIGPIPE"'
	assert_equal "$(count '.type == "signal" and (.note | test("raised by the kernel because the write failed"))')" 0
	# strace sees the same: two SIGPIPE sigactions, the signal after the unblock, the death.
	strace -f -qq -o "$OUT/strace.txt" -e trace=rt_sigaction,rt_sigprocmask,signalfd4 "$CALLS" sigpipe 2>/dev/null 3>&- || true
	assert_equal "$(grep -c 'rt_sigaction(SIGPIPE, {sa_handler=SIG_' "$OUT/strace.txt")" 2
	run sed -n '/SIG_UNBLOCK, \[PIPE\]/,$p' "$OUT/strace.txt"
	assert_line --partial -- '--- SIGPIPE {si_signo=SIGPIPE'
	assert_line --partial -- '+++ killed by SIGPIPE +++'
}

@test "calls: what a program made SIGPIPE do before its first socket call is told before that call" {
	# The text timeline leaves out the calls of processes that never touch a
	# socket; this one's ten, made before its socket(), are told when it does,
	# in order, the repeated ones as a repeat (tests/unit/story.c checks the bound).
	run --separate-stderr timeout "$RUN_LIMIT" "$SIGTRACE" --netns -- "$CALLS" sigactions </dev/null 3>&-
	assert_success
	assert_equal "$stderr" ''
	# What each line is (after its time and process), where it is one of these.
	run sed -nE 's/^ +[0-9.]+ +calls +(exec|rt_sigaction\(SIGPIPE, \{sa_handler=SIG_[A-Z]+|↻ the same again|↻ repeated 3 more times|socket\(AF_INET).*/\1/p' <<<"$output"
	assert_output "exec
rt_sigaction(SIGPIPE, {sa_handler=SIG_DFL
rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN
rt_sigaction(SIGPIPE, {sa_handler=SIG_DFL
rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN
↻ the same again
↻ repeated 3 more times
socket(AF_INET"
	# JSON has every call: four alone, and a cycle of two seen three times more.
	traced_calls sigactions
	assert_equal "$(count '.syscall == "rt_sigaction"')" 6
	assert_equal "$(jq -s '[.[] | select(.syscall == "rt_sigaction") | .repeat] | add' "$TRACE")" 10
}

@test "calls: a call a signal cuts short shows what the program saw: EINTR, the restarted call's result, or never returned" {
	# strace shows each of the three recv()s end with "= ? ERESTARTSYS", a
	# code the program never sees: after the first handler rt_sigreturn
	# returns -1 EINTR, after the second (SA_RESTART) the call goes on, and
	# SIGTERM kills the third.
	# (strace ends as its tracee did, killed by SIGTERM: the subshell's stderr takes bash's word for it.)
	(strace -qq -o "$OUT/strace.txt" -e trace=recvfrom,rt_sigreturn "$CALLS" interrupt 3>&-) 2>/dev/null || true
	assert_equal "$(grep -c '^recvfrom(.* = ? ERESTARTSYS' "$OUT/strace.txt")" 3
	assert_equal "$(grep -c '^rt_sigreturn(.* = -1 EINTR' "$OUT/strace.txt")" 1
	assert_equal "$(grep -c '^recvfrom(5, "x", 4, .* = 1$' "$OUT/strace.txt")" 1
	traced_calls interrupt 143
	# Three recv calls, as the program made them, none with a restart code.
	run jq -r 'select(.call == "recv" and .part != "unfinished") | "\(.part // "whole") \(.ret) \(.errno)"' "$TRACE"
	assert_output $'whole -1 EINTR\nwhole 1 null\nnever_returned null null'
	TRACE=$OUT/interrupt.jsonl
	assert_equal "$(count '.errno != null and (.errno | test("^ERESTART"))')" 0
	# A receive's first half has no bytes yet; its second has the one that came.
	assert_equal "$(count '.call == "recv" and .part == "unfinished" and has("data")')" 0
	assert_equal "$(count '.call == "recv" and .data == "x" and .note == "1 byte arrived from the peer"')" 1
	# Each split around the signal that cut it short.
	in_order '.call == "recv" and .part == "unfinished"' \
		'.type == "signal" and .signal == "SIGUSR1"' \
		'.call == "recv" and .errno == "EINTR" and (.note | test("after a handler installed without SA_RESTART"))' \
		'.call == "recv" and .part == "unfinished"' \
		'.type == "signal" and .signal == "SIGUSR1"' \
		'.type == "packet" and .len == 1' \
		'.call == "recv" and .ret == 1' \
		'.call == "recv" and .part == "unfinished"' \
		'.type == "signal" and .signal == "SIGTERM"' \
		'.call == "recv" and .part == "never_returned" and (.note | test("killed by SIGTERM"))' \
		'.type == "exit" and .signal == "SIGTERM"'
}

@test "calls: a handler's own call is not taken for the call its signal cut short, and an EINTR follows its signal" {
	# strace: the main recv ends "= ? ERESTARTSYS", the handler's recv on
	# another socket returns its byte, rt_sigreturn returns -1 EINTR; then
	# epoll_wait fails with EINTR at once, before the signal is delivered.
	(strace -qq -o "$OUT/strace.txt" -e trace=recvfrom,rt_sigreturn,epoll_wait "$CALLS" handlercall 3>&-) 2>/dev/null || true
	assert_equal "$(grep -c '^recvfrom(.*MSG_DONTWAIT.* = 1$' "$OUT/strace.txt")" 1
	# (Each handler's rt_sigreturn gives back -1 EINTR: the recv's, and the epoll_wait's it had already.)
	assert_equal "$(grep -c '^rt_sigreturn(.* = -1 EINTR' "$OUT/strace.txt")" 2
	assert_equal "$(grep -c '^epoll_wait(.* = -1 EINTR' "$OUT/strace.txt")" 1
	traced_calls handlercall
	TRACE=$OUT/handlercall.jsonl
	in_order '.call == "recv" and .part == "unfinished" and .fd == 5' \
		'.type == "signal" and .signal == "SIGUSR1"' \
		'.call == "recv" and .fd != 5 and .ret == 1 and .data == "h"' \
		'.call == "recv" and .part == "resumed" and .fd == 5 and .errno == "EINTR"' \
		'.syscall == "epoll_wait" and .part == "unfinished"' \
		'.type == "signal" and .signal == "SIGUSR1"' \
		'.syscall == "epoll_wait" and .part == "resumed" and .errno == "EINTR"'
	assert_equal "$(count '.call == "recv" and .fd == 5 and .ret != null')" 1
}

@test "calls: a SIGPIPE sent with kill() kills, and the end's note says who sent it, not that a write failed" {
	traced_calls killpipe 141
	# The child, which sends it and exits 0.
	local kid
	kid=$(jq -r 'select(.type == "exit" and .code == 0) | .pid' "$TRACE")
	[[ $kid =~ ^[0-9]+$ ]]
	in_order ".type == \"signal\" and .signal == \"SIGPIPE\" and (.note | contains(\"(pid $kid) with kill()\"))" \
		".type == \"exit\" and .signal == \"SIGPIPE\" and (.note | contains(\"(pid $kid) sent with kill(): no write of its own failed\"))"
	assert_equal "$(count '.type == "exit" and (.note | test("a write failed")))')" 0
}

@test "calls: a listener closed with a connection it never accepted: the RST says so, and the client's recv fails" {
	traced_calls unaccepted
	in_order '.call == "close" and .fd == 3' \
		'.type == "packet" and (.flags | index("RST")) and (.note | test("listening socket closed with this connection still in its queue, never accepted")) and (.note | test("next recv\\(\\) or send\\(\\) fails with ECONNRESET"))' \
		'.call == "recv" and .errno == "ECONNRESET" and (.note | test("SO_LINGER zero, or our data came to a socket it had closed \\(the RST.s note says which\\)"))'
	assert_equal "$(count '.type == "packet" and (.note | test("unread")))')" 0
}

@test "calls: a refused non-blocking connect shows its SO_ERROR" {
	traced_calls nbconnect
	in_order '.syscall == "connect" and .errno == "EINPROGRESS"' \
		'.type == "packet" and (.flags | index("RST")) and (.note | test("SO_ERROR"))' \
		'.syscall == "getsockopt" and (.text | test("SO_ERROR, \\[ECONNREFUSED\\]")) and (.note | test("non-blocking connect"))'
	strace -qq -o "$OUT/strace.txt" -e trace=getsockopt "$CALLS" nbconnect 3>&-
	run grep -c 'SO_ERROR, \[ECONNREFUSED\]' "$OUT/strace.txt"
	assert_output 1
}

@test "calls: a blocking send cut short by a RST is not called a full buffer" {
	traced_calls blocked
	events '.call == "send" and .fd == 4' >"$OUT/send.json"
	# The kernel took part of the 64 MB before the RST ended the wait.
	jq -e 'select(.ret > 0 and .ret < .len)' "$OUT/send.json"
	jq -e 'select(.note | test("the socket blocks")) | select(.note | test("buffer is full") | not)' "$OUT/send.json"
	assert_equal "$(count '.type == "packet" and (.flags | index("RST"))')" 1
}

@test "calls: a zero-window probe is not called a keep-alive" {
	traced_calls zerowin
	in_order '.type == "packet" and (.note | test("zero window"))' \
		'.type == "packet" and (.note | test("zero-window probe"))'
	assert_equal "$(count '.type == "packet" and (.note | test("keep-alive"))')" 0
}

@test "calls: a program that starts with SIGPIPE ignored says so at its exec" {
	TRACE=$OUT/ignored.jsonl
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns -o "$TRACE" -- bash -c "trap '' PIPE; exec '$CALLS' nop" 3>&-
	assert_success
	events '.type == "exec" and .proc == "calls"' | jq -e 'select(.note | test("SIGPIPE starts ignored, inherited"))'
	TRACE=$OUT/default.jsonl
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns -o "$TRACE" -- "$CALLS" nop 3>&-
	assert_success
	assert_equal "$(count '.type == "exec" and (.note | test("SIGPIPE"))')" 0
}

# The calls named by the regular expression $1 as strace -f records MODE $2 (its
# poll and recv results, say), "name result" a line, from the first accept4 on.
strace_from_accept() {
	strace -f -qq -o "$OUT/strace.txt" -e trace="accept4,${1//|/,}" "$CALLS" "$2" >/dev/null 2>&1 3>&- || true
	sed -n '/accept4(/,$p' "$OUT/strace.txt" |
		sed -nE "s/^[0-9]+ +($1)\\(.* += (-?[0-9]+).*/\\1 \\2/p"
}

@test "calls: a poll loop on a closed peer returns at once every turn, and is called a busy loop" {
	traced_calls pollspin
	local text=$output
	# Every poll and recv, as strace saw them: 3000 polls = 1, 3000 recvs = 0.
	run strace_from_accept 'poll|recvfrom' pollspin
	assert_equal "$(grep -c '^poll 1$' <<<"$output")" 3000
	assert_equal "$(grep -c '^recvfrom 0$' <<<"$output")" 3000
	assert_equal "$(total '.call == "poll" and .ret == 1')" 3000
	assert_equal "$(total '.call == "recv" and .ret == 0')" 3000
	# The line: the socket asked about and what came, the timeout; in JSON, field by field.
	assert_equal "$(count '(.text // "" | sub(" \\([0-9.]+ ms\\)$"; "")) == "poll([{fd=5, POLLIN|POLLRDHUP}], 1, 10000) = 1 [{fd=5, POLLIN|POLLRDHUP}]"')" \
		"$(count '.call == "poll"')"
	assert_equal "$(count '.call == "poll" and .nfds == 1 and .timeout_ms == 10000 and .fds_not_shown == 0 and .fds == [{"fd": 5, "events": ["POLLIN", "POLLRDHUP"], "revents": ["POLLIN", "POLLRDHUP"]}]')" \
		"$(count '.call == "poll"')"
	# The first says the peer closed; the next, after recv() = 0, that a read returns 0 at once.
	in_order '.call == "poll" and (.note | test("the peer closed its end \\(POLLRDHUP\\)")) and (.note | test("returned at once$"))' \
		'.call == "recv" and .ret == 0' \
		'.call == "poll" and (.note | test("a read will return 0 at once")) and (.note | test("returned at once$"))'
	# The loop's judgement, in the text timeline: it spins, and its poll is why.
	run echo "$text"
	assert_line --partial "a busy loop: its poll returns at once every turn"
	refute_line --partial "nothing in it waits"
}

@test "calls: a poll that waits is told from one that does not; a poll on a pipe alone is not shown" {
	traced_calls pollwait
	local text=$output
	# strace: the pipe's poll and the three on the socket (0, 0, 1).
	run strace_from_accept 'poll|recvfrom' pollwait
	assert_output $'poll 0\npoll 0\npoll 0\npoll 1\nrecvfrom 4'
	run jq -r 'select(.call == "poll") | .text | sub(" \\([0-9.]+ ms\\)$"; "")' "$TRACE"
	assert_output $'poll([{fd=5, POLLIN}], 1, 0) = 0\npoll([{fd=5, POLLIN}], 1, 100) = 0\npoll([{fd=5, POLLIN}], 1, 10000) = 1 [{fd=5, POLLIN}]'
	in_order '.call == "poll" and .timeout_ms == 0 and .note == "nothing ready; with timeout 0 poll does not wait"' \
		'.call == "poll" and .timeout_ms == 100 and .duration >= 0.1 and (.note | test("^nothing ready within the timeout; waited [0-9]+ ms$"))' \
		'.call == "poll" and .ret == 1 and .duration >= 0.05 and (.note | test("^fd 5 is readable: .*; waited [0-9]+ ms$"))' \
		'.call == "recv" and .ret == 4 and .data == "wake"'
	run echo "$text"
	assert_line --partial "poll([{fd=5, POLLIN}], 1, 100) = 0"
	refute_line --partial "busy loop"
}

@test "calls: epoll: the socket added and removed, and an epoll_wait loop that returns at once is a busy loop" {
	traced_calls epollspin
	local text=$output
	run strace_from_accept 'epoll_ctl|epoll_wait|epoll_pwait|recvfrom' epollspin
	assert_equal "$(grep -c '^epoll_ctl 0$' <<<"$output")" 2
	assert_equal "$(grep -cE '^epoll_p?wait 1$' <<<"$output")" 1000
	assert_equal "$(grep -c '^recvfrom 0$' <<<"$output")" 1000
	assert_equal "$(total '(.call // "" | test("^epoll_p?wait$")) and .ret == 1')" 1000
	assert_equal "$(total '.call == "recv" and .ret == 0')" 1000
	in_order '(.text // "" | sub(" \\([0-9.]+ ms\\)$"; "")) == "epoll_ctl(6, EPOLL_CTL_ADD, 5, {POLLIN}) = 0" and .note == "epoll fd 6 watches fd 5 from now on, for what its events name"' \
		'(.call // "" | test("^epoll_p?wait$")) and .epfd == 6 and .maxevents == 8 and .timeout_ms == 10000 and .ready == [["POLLIN"]] and (.fds | map(.fd)) == [5] and (.note | test("returned at once$"))' \
		'.call == "recv" and .ret == 0' \
		'(.text // "" | sub(" \\([0-9.]+ ms\\)$"; "")) == "epoll_ctl(6, EPOLL_CTL_DEL, 5, NULL) = 0" and .note == "epoll fd 6 no longer watches fd 5"'
	run echo "$text"
	assert_line --regexp "a busy loop: its epoll_p?wait returns at once every turn"
}

@test "calls: a select loop on a closed peer returns at once every turn, and is called a busy loop" {
	traced_calls selectspin
	local text=$output
	# strace: glibc's select() is pselect6; 1000 of them = 1, and 1000 recvs = 0.
	run strace_from_accept 'pselect6|recvfrom' selectspin
	assert_equal "$(grep -c '^pselect6 1$' <<<"$output")" 1000
	assert_equal "$(grep -c '^recvfrom 0$' <<<"$output")" 1000
	assert_equal "$(total '.call == "select" and .syscall == "pselect6" and .ret == 1')" 1000
	assert_equal "$(total '.call == "recv" and .ret == 0')" 1000
	# The line: the socket asked about, the pipe counted, what came; in JSON, field by field.
	assert_equal "$(count '(.text // "" | sub(" \\([0-9.]+ ms\\)$"; "")) == "select(7, [5 ... (+1 more)], NULL, NULL, {tv_sec=10, tv_usec=0}) = 1 (in [5])"')" \
		"$(count '.call == "select"')"
	assert_equal "$(count '.call == "select" and .nfds == 7 and .timeout_ms == 10000 and .fds_not_shown == 1 and .fds == [{"fd": 5, "events": ["in"], "revents": ["in"]}]')" \
		"$(count '.call == "select"')"
	# The first cannot tell a FIN from data or an error; after recv() = 0, a read returns 0 at once.
	in_order '.call == "select" and (.note | test("^fd 5 is readable: data waits, the peer.s FIN \\(a read returning 0\\), or an error")) and (.note | test("returned at once$"))' \
		'.call == "recv" and .ret == 0' \
		'.call == "select" and (.note | test("a read will return 0 at once")) and (.note | test("returned at once$"))'
	run echo "$text"
	assert_line --partial "a busy loop: its select returns at once every turn"
	refute_line --partial "nothing in it waits"
}

@test "calls: a select that waits is told from one that does not: select, pselect and the select system call" {
	traced_calls selectwait
	local text=$output
	# strace: timeout 0 and 100 ms find nothing; the system call is woken by the data.
	run strace_from_accept 'select|pselect6|recvfrom' selectwait
	assert_output $'pselect6 0\npselect6 0\nselect 1\nrecvfrom 4'
	run jq -r 'select(.call // "" | test("select")) | .text | sub(" \\([0-9.]+ ms\\)$"; "")' "$TRACE"
	assert_output - <<-'EOF'
		select(6, [5], NULL, NULL, {tv_sec=0, tv_usec=0}) = 0 (Timeout)
		pselect(6, [5], NULL, NULL, {tv_sec=0, tv_nsec=100000000}, &sigmask) = 0 (Timeout)
		select(6, [5], NULL, [], {tv_sec=10, tv_usec=0}) = 1 (in [5])
	EOF
	in_order '.call == "select" and .syscall == "pselect6" and .timeout_ms == 0 and .note == "nothing ready; with timeout 0 select does not wait"' \
		'.call == "pselect" and .timeout_ms == 100 and .duration >= 0.1 and (.note | test("^nothing ready within the timeout; waited [0-9]+ ms$"))' \
		'.call == "select" and .syscall == "select" and .ret == 1 and .duration >= 0.05 and .fds == [{"fd": 5, "events": ["in"], "revents": ["in"]}] and (.note | test("^fd 5 is readable: .*; waited [0-9]+ ms$"))' \
		'.call == "recv" and .ret == 4 and .data == "wake"'
	run echo "$text"
	assert_line --partial "pselect(6, [5], NULL, NULL, {tv_sec=0, tv_nsec=100000000}, &sigmask) = 0 (Timeout)"
	refute_line --partial "busy loop"
}
