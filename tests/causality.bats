#!/usr/bin/env bats
# The timeline's order tells the truth: scripts/causality reads a live run's
# JSON in the order it was printed and fails on an effect shown before its
# cause. Every lab and the solution, traced, shows none; each rule is seen to
# catch what it is for; and the cases the order used to get wrong are shown
# where they happen: a connect split around its handshake, a refused one
# around its RST, a process's end before the FIN or RST it causes, a send
# that blocks longer than the old reorder window.
#
# Each test runs in a subshell of its own, where run sets output and stderr:
# shellcheck disable=SC2030,SC2031,SC2154

bats_require_minimum_version 1.5.0

setup_file() {
	make -C "$BATS_TEST_DIRNAME/.." --no-print-directory -s build/sigtrace >&2
}

setup() {
	load 'test_helper/common'
	load 'test_helper/trace'
	CAUSALITY=$ROOT/scripts/causality
}

teardown() { teardown_processes; }

# no_violations NAME: NAME's scenario, traced, shows no effect before its cause.
no_violations() {
	traced "$1"
	assert_equal "$TRACE_STATUS" 0
	run "$CAUSALITY" "$TRACE"
	assert_success
	assert_output --regexp ': 0 violations \(time 0, connect 0, recv 0, epipe 0, sigpipe 0, exit 0\)$'
}

@test "causality: lab 1, traced, shows no effect before its cause" { no_violations 1-naive; }
@test "causality: lab 2, traced, shows no effect before its cause" { no_violations 2-send-removed; }
@test "causality: lab 3, traced, shows no effect before its cause" { no_violations 3-sig-ign; }
@test "causality: lab 4, traced, shows no effect before its cause" { no_violations 4-handler; }
@test "causality: lab 5, traced, shows no effect before its cause" { no_violations 5-unread-close; }
@test "causality: lab 6, traced, shows no effect before its cause" { no_violations 6-client-side; }
@test "causality: lab 7, traced, shows no effect before its cause" { no_violations 7-inherited-ign; }
@test "causality: lab 8, traced, shows no effect before its cause" { no_violations 8-neighbours; }
@test "causality: the solution, traced, shows no effect before its cause" { no_violations solution; }

# --- the checker catches what each rule is for ---------------------------------------

# events FILE LINE...: FILE holds the JSON lines given.
events_file() {
	local file=$1
	shift
	printf '%s\n' "$@" >"$file"
}

@test "causality: each rule fails on the effect printed before its cause, naming both lines" {
	local f=$BATS_TEST_TMPDIR/bad.jsonl
	local C='"pid":10,"proc":"client"' S='"pid":20,"proc":"server"'
	events_file "$f" \
		'{"t":1.000,"type":"syscall",'"$C"',"call":"connect","fd":3,"ret":0,"addr":"127.0.0.1:3333","local":"127.0.0.1:5000","remote":"127.0.0.1:3333","text":"connect(3, 127.0.0.1:3333) = 0"}' \
		'{"t":1.001,"type":"packet","src":"127.0.0.1:5000","dst":"127.0.0.1:3333","flags":["SYN"],"seq":0,"len":0}' \
		'{"t":1.002,"type":"packet","src":"127.0.0.1:3333","dst":"127.0.0.1:5000","flags":["SYN","ACK"],"seq":0,"len":0}' \
		'{"t":1.003,"type":"syscall",'"$S"',"call":"accept","fd":3,"ret":4,"local":"127.0.0.1:3333","remote":"127.0.0.1:5000"}' \
		'{"t":1.004,"type":"syscall",'"$S"',"call":"recv","fd":4,"ret":6}' \
		'{"t":1.005,"type":"packet","src":"127.0.0.1:5000","dst":"127.0.0.1:3333","flags":["PSH","ACK"],"seq":1,"len":6}' \
		'{"t":1.006,"type":"signal",'"$S"',"signal":"SIGPIPE"}' \
		'{"t":1.007,"type":"syscall",'"$S"',"call":"send","fd":4,"ret":-1,"errno":"EPIPE"}' \
		'{"t":1.008,"type":"packet","src":"127.0.0.1:5000","dst":"127.0.0.1:3333","flags":["RST"],"seq":7,"len":0}' \
		'{"t":1.009,"type":"packet","src":"127.0.0.1:3333","dst":"127.0.0.1:5000","flags":["FIN","ACK"],"seq":1,"len":0}' \
		'{"t":1.010,"type":"exit",'"$S"',"code":0}' \
		'{"t":1.000,"type":"exec","pid":30,"proc":"other","path":"/bin/true"}'
	run "$CAUSALITY" "$f"
	assert_failure 1
	assert_line --regexp ":1: connect: client \(pid 10\): connect\(3, 127.0.0.1:3333\) = 0 printed before packet .*SYN,ACK.* \(line 3\)"
	assert_line --regexp ":5: recv: .* \(line 6\)"
	assert_line --regexp ":7: sigpipe: server \(pid 20\): SIGPIPE printed before .* \(line 8\)"
	assert_line --regexp ":8: epipe: .* \(line 9\)"
	assert_line --regexp ":10: exit: packet 127.0.0.1:3333 > 127.0.0.1:5000 \[FIN,ACK\].* before server \(pid 20\): exit \(line 11\)"
	assert_line --regexp ":12: time: .* \(line 11\)"
	assert_line --regexp ": 6 violations \(time 1, connect 1, recv 1, epipe 1, sigpipe 1, exit 1\)$"
}

@test "causality: a cause that never shows is no violation; bad input is refused with the way out" {
	local f=$BATS_TEST_TMPDIR/lone.jsonl
	events_file "$f" '{"t":1.0,"type":"syscall","pid":1,"proc":"c","call":"connect","fd":3,"ret":0,"local":"127.0.0.1:5000","remote":"127.0.0.1:3333"}'
	run "$CAUSALITY" "$f"
	assert_success
	echo 'not json' >"$f"
	run "$CAUSALITY" "$f"
	assert_failure 2
	assert_output --partial "not JSON (give the output of sigtrace --json)"
	run "$CAUSALITY" "$BATS_TEST_TMPDIR/missing.jsonl"
	assert_failure 2
	assert_output --partial "cannot read"
}

# --- the cases the order used to get wrong ------------------------------------------

@test "causality: a connect is shown around its handshake, a refused one around its RST" {
	traced 1-naive
	in_order '.type == "syscall" and .proc == "client" and .call == "connect" and .part == "unfinished" and (has("ret") | not)' \
		'.type == "packet" and .from == "client" and .flags == ["SYN"]' \
		'.type == "packet" and .to == "client" and .flags == ["SYN","ACK"]' \
		'.type == "syscall" and .proc == "client" and .call == "connect" and .part == "resumed" and .ret == 0 and .returned > .entered'
	in_order '.type == "syscall" and .proc == "client" and .call == "connect" and .part == "unfinished"' \
		'.type == "packet" and (.flags | index("RST"))' \
		'.type == "syscall" and .proc == "client" and .call == "connect" and .part == "resumed" and .errno == "ECONNREFUSED"'
	# Every call carries both its times; a whole one is one line.
	assert_equal "$(count '.type == "syscall" and (has("entered") | not)')" 0
	assert_equal "$(count '.type == "syscall" and (has("part") | not) and (has("returned") | not)')" 0
}

@test "causality: a process's end comes before the FIN or RST its closing sockets send" {
	traced 2-send-removed
	# The server is killed by SIGTERM holding client 2's connection: the kernel closes it.
	in_order '.type == "exit" and .proc == "server" and .signal == "SIGTERM"' \
		'.type == "packet" and .from == "server" and ((.flags | index("FIN")) or (.flags | index("RST")))'
}

@test "causality: a send that blocks until its reader reads is split around what happened meanwhile, and time never goes back" {
	local bin=$BATS_FILE_TMPDIR/slow-reader out=$BATS_TEST_TMPDIR/slow.jsonl
	cc -std=c11 -Wall -Wextra -Werror -O2 -o "$bin" "$BATS_TEST_DIRNAME/fixtures/programs/slow-reader.c"
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns --json -- "$bin" 4444 </dev/null 3>&-
	assert_success
	printf '%s\n' "$output" | grep '^{' >"$out"
	TRACE=$out in_order '.type == "syscall" and .call == "send" and .part == "unfinished"' \
		'.type == "packet" and .len > 0' \
		'.type == "syscall" and .call == "send" and .part == "resumed" and .ret == 4194304'
	# It returned only once the reader (asleep 0.4 s after its accept) had begun to read: 4 MB
	# is more than the sockets' buffers hold. How long it blocked depends on when the sender
	# got there, which a loaded machine decides.
	run jq -s '([.[] | select(.type == "syscall" and .call == "recv" and .ret > 0)][0].entered) as $read
		| [.[] | select(.type == "syscall" and .call == "send" and .part == "resumed")][0].returned > $read' "$out"
	assert_output true
	run "$CAUSALITY" "$out"
	assert_success
	assert_output --regexp ': 0 violations'
}
