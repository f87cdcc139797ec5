#!/usr/bin/env bats
# sigtrace, live: each lab's story is in its events; an independent capture
# (dumpcap) sees the same packets; tracing leaves the outcome alone; killing
# the tracer leaves nothing behind; bad arguments are refused; the timeline
# reads well; and a program it has never seen, in another language, is
# traced as faithfully as the labs.
#
# SIGTRACE=build/asan/sigtrace bats tests/sigtrace.bats runs all of it against
# the sanitized build (make sanitize).
#
# Each test runs in a subshell of its own, where run sets output and stderr:
# shellcheck disable=SC2030,SC2031,SC2154

bats_require_minimum_version 1.5.0


setup() {
	load 'test_helper/common'
	load 'test_helper/trace'
	FIXTURES=$BATS_TEST_DIRNAME/fixtures
}

teardown() { teardown_processes; }

# --- each lab's story, in its events ----------------------------------------------

@test "sigtrace lab 1: FIN, data after it, RST, send EPIPE, SIGPIPE at default, death by SIGPIPE" {
	traced 1-naive
	assert_equal "$TRACE_STATUS" 0
	in_order '.type == "packet" and .from == "client" and (.flags | index("FIN"))' \
		'.type == "packet" and .from == "server" and .len > 0' \
		'.type == "packet" and .from == "client" and (.flags | index("RST"))' \
		'.type == "syscall" and .proc == "server" and .call == "send" and .ret == -1 and .errno == "EPIPE"' \
		'.type == "signal" and .proc == "server" and .signal == "SIGPIPE" and .disposition == "default"' \
		'.type == "exit" and .proc == "server" and .code == null and .signal == "SIGPIPE"'
	assert_equal "$(count '.type == "verdict" and .server == "killed-by-SIGPIPE" and .client2 == "refused"')" 1
}

@test "sigtrace lab 2: recv returning 0 collapses into one event with a large count, and no SIGPIPE" {
	traced 2-send-removed
	assert_equal "$TRACE_STATUS" 0
	assert [ "$(total '.type == "syscall" and .proc == "server" and .call == "recv" and .ret == 0')" -ge 500 ]
	assert_equal "$(count '.type == "signal" and .signal == "SIGPIPE"')" 0
	# A busy loop: a blocked server makes no calls; this one makes hundreds a second.
	assert [ "$(count '.type == "syscall" and .proc == "server" and .ret == 0 and .rate >= 100')" -ge 1 ]
	# Collapsed: the server's events are a handful of lines, not thousands.
	assert [ "$(count '.proc == "server"')" -lt 40 ]
}

@test "sigtrace lab 3: SIGPIPE arrives ignored, and the failing send repeats" {
	traced 3-sig-ign
	assert_equal "$TRACE_STATUS" 0
	in_order '.type == "syscall" and .proc == "server" and .call == "send" and .errno == "EPIPE"' \
		'.type == "signal" and .proc == "server" and .signal == "SIGPIPE" and .disposition == "ignored"'
	assert_equal "$(count '.type == "signal" and .proc == "server" and .signal == "SIGPIPE" and .disposition != "ignored"')" 0
	assert [ "$(total '.type == "syscall" and .proc == "server" and .errno == "EPIPE"')" -ge 500 ]
	assert [ "$(total '.type == "signal" and .proc == "server" and .signal == "SIGPIPE"')" -ge 500 ]
	# Collapsed: the server's events are a handful of lines, not thousands.
	assert [ "$(count '.proc == "server"')" -lt 60 ]
}

@test "sigtrace lab 4: SIGPIPE is caught, the server lives on and serves client 2" {
	traced 4-handler
	assert_equal "$TRACE_STATUS" 0
	in_order '.type == "syscall" and .proc == "server" and .errno == "EPIPE"' \
		'.type == "signal" and .proc == "server" and .signal == "SIGPIPE" and .disposition == "caught"' \
		'.type == "syscall" and .proc == "server" and .call == "accept" and .ret >= 0' \
		'.type == "syscall" and .proc == "server" and .call == "recv" and .data == "second client\n"'
	# The server ends only when the scenario stops it.
	assert_equal "$(count '.type == "exit" and .proc == "server" and .signal != "SIGTERM"')" 0
	assert_equal "$(count '.type == "verdict" and .server == "alive" and .client2 == "served"')" 1
}

@test "sigtrace lab 5: the server's RST says how many bytes it left unread, counted from the wire and its reads" {
	traced 5-unread-close
	assert_equal "$TRACE_STATUS" 0
	# The first RST, and what came before it: the bytes the client's packets
	# carried to the server's port, and the bytes the server's reads returned.
	local rst arrived read
	rst=$(jq -sc '[.[] | select(.type == "packet" and .from == "server" and (.flags | index("RST")))] | first' "$TRACE")
	[[ $rst != null ]] || fail "no RST from the server in $TRACE"
	arrived=$(jq -s --argjson rst "$rst" \
		'map(select(.type == "packet" and .t < $rst.t and .src == $rst.dst and .dst == $rst.src) | .len) | add' "$TRACE")
	read=$(jq -s --argjson rst "$rst" \
		'map(select(.type == "syscall" and .t < $rst.t and .proc == "server" and .call == "recv" and .ret > 0) | .ret) | add' "$TRACE")
	((arrived > read)) || fail "the server read all $arrived bytes: no unread data to speak of"
	jq -r '.note' <<<"$rst" | grep -qF "server closed with $((arrived - read)) bytes unread: RST instead of FIN" ||
		fail "the RST's note does not count $((arrived - read)) bytes unread: $(jq -r .note <<<"$rst")"
	# The summary says the same, and nothing says there was nothing unread.
	assert_equal "$(count ".type == \"connection\" and .conn_state == \"RSTR\" and (.note | contains(\"with $((arrived - read)) bytes unread\"))")" 1
	run grep -c 'nothing unread' "$TRACE_OUT"
	assert_output 0
}

@test "sigtrace solution: no SIGPIPE at all, the server alive and client 2 served" {
	traced solution
	assert_equal "$TRACE_STATUS" 0
	assert_equal "$(count '.type == "signal" and .signal == "SIGPIPE"')" 0
	assert_equal "$(count '.type == "syscall" and .errno == "EPIPE"')" 0
	assert_equal "$(count '.type == "verdict" and .server == "alive" and .client2 == "served"')" 1
	assert_equal "$(count '.type == "connection" and .conn_state == "SF"')" 2
}

# --- an independent witness -----------------------------------------------------

# capture_both DIR: in a private network namespace (run under unshare -Urn),
# dumpcap captures lo while the tracer, without --netns, runs lab 1's
# scenario there. (Debian's tcpdump cannot capture, nor even read a file, in a
# user namespace: it insists on switching to its own user. dumpcap and
# capinfos do not.)
capture_both() {
	local dir=$1 dumpcap rc=0
	ip link set lo up || return 1
	dumpcap -i lo -q -f tcp -w "$dir/wire.pcapng" 2>"$dir/dumpcap.err" 3>&- &
	dumpcap=$!
	# shellcheck disable=SC2317 # called through wait_for
	capturing() { grep -q 'Capturing on' "$dir/dumpcap.err" || gone "$dumpcap"; }
	wait_for 10 capturing
	grep -q 'Capturing on' "$dir/dumpcap.err" || return 1
	timeout "$RUN_LIMIT" "$SIGTRACE" -o "$dir/trace.jsonl" -- "$ROOT/labs/scenario" 1-naive \
		>"$dir/trace.out" 2>&1 </dev/null || rc=$?
	# dumpcap gets packets from the kernel a block at a time, when the block
	# fills or its timer fires, and loses those it has not got yet when
	# SIGINT ends it: the last packets of the story (client 2's SYN and the
	# RST that refuses it) can be among them. So it is stopped once the file
	# holds as many packets as the tracer saw; if it never does, the
	# comparison that follows says how the two differ.
	# shellcheck disable=SC2317 # called through wait_for
	wire_caught_up() {
		local caught
		caught=$(capinfos -c -M -T -r "$dir/wire.pcapng" 2>/dev/null | cut -f 2)
		((${caught:-0} >= $(grep -c '"type":"packet"' "$dir/trace.jsonl")))
	}
	wait_for 10 wire_caught_up || true
	kill -INT "$dumpcap"
	wait "$dumpcap" || rc=$?
	return "$rc"
}

@test "sigtrace: its packets are dumpcap's packets, as tcpdump reads them: count, order, flags, direction" {
	local dir=$BATS_TEST_TMPDIR
	run unshare -Urn bash -c "$(helper_functions capture_both); SIGTRACE='$SIGTRACE' ROOT='$ROOT' RUN_LIMIT=$RUN_LIMIT capture_both '$dir'"
	assert_success
	# tcpdump: "12:00:00.000000 IP 127.0.0.1.51000 > 127.0.0.1.3333: Flags [P.], seq ..., length 5"
	tcpdump -nn -r "$dir/wire.pcapng" 'tcp' 2>/dev/null | awk '
		function endpoint(s) { sub(/:$/, "", s); n = split(s, a, "."); return a[1] "." a[2] "." a[3] "." a[4] ":" a[n] }
		$2 == "IP" { flags = $7; gsub(/[][,]/, "", flags); print endpoint($3), endpoint($5), flags, $NF }' >"$dir/wire.txt"
	TRACE=$dir/trace.jsonl
	events '.type == "packet"' | jq -r '
		. as $p | .flags as $f
		| [["FIN","F"],["SYN","S"],["RST","R"],["PSH","P"],["ACK","."],["URG","U"],["ECE","E"],["CWR","W"]]
		| map(select(.[0] as $n | $f | any(.[]; . == $n)) | .[1]) | join("") as $letters
		| "\($p.src) \($p.dst) \($letters) \($p.len)"' >"$dir/traced.txt"
	# Lab 1's story: two connections, among them a FIN, a RST and a refusal. Not
	# a packet count: an ACK may ride on a reply or go alone (14 packets or 15).
	assert_equal "$(awk '$3 == "S"' "$dir/wire.txt" | wc -l)" 2
	assert [ "$(awk '$3 ~ /F/' "$dir/wire.txt" | wc -l)" -ge 1 ]
	assert [ "$(awk '$3 == "R"' "$dir/wire.txt" | wc -l)" -ge 1 ]
	assert [ "$(awk '$3 == "R."' "$dir/wire.txt" | wc -l)" -ge 1 ]
	run diff "$dir/wire.txt" "$dir/traced.txt"
	assert_success
	# Direction: what comes from the port the scenario chose is the server's.
	port=$(sed -n 's/.* on port \([0-9]*\) .*/\1/p' "$dir/trace.out")
	assert [ -n "$port" ]
	assert_equal "$(count ".type == \"packet\" and (.src | endswith(\":$port\")) and .from != \"server\"")" 0
	assert_equal "$(count ".type == \"packet\" and (.dst | endswith(\":$port\")) and .to != \"server\"")" 0
}

# --- tracing does not change the outcome ------------------------------------------

# same_verdict NAME: the scenario's verdict for NAME, untraced and traced, is one line.
same_verdict() {
	untraced "$1"
	assert_success
	local plain
	plain=$(grep '^verdict: ' <<<"$output")
	traced "$1"
	assert_equal "$TRACE_STATUS" 0
	# The scenario's line, and sigtrace's repetition of it at the end.
	run verdict_of "$TRACE_OUT"
	assert_output "$plain"$'\n'"$plain"
}

@test "sigtrace: lab 1 ends with the same verdict traced and untraced" { same_verdict 1-naive; }
@test "sigtrace: lab 4 ends with the same verdict traced and untraced" { same_verdict 4-handler; }
@test "sigtrace: the solution ends with the same verdict traced and untraced" { same_verdict solution; }

# Under the tracer a busy loop is stopped at every call and uses only a
# fraction of a CPU; the scenario counts those stops too, so the traced
# verdict must be spinning. Untraced, the scenario's CPU measure alone can
# read a busy loop that the machine's load starves below half a CPU as
# alive: the untraced run must agree on the rest (not killed, client 2 hung).
same_verdict_spinning() {
	untraced "$1"
	assert_success
	assert_line --regexp "^verdict: lab=$1 server=(spinning|alive) client2=hung\$"
	traced "$1"
	assert_equal "$TRACE_STATUS" 0
	run verdict_of "$TRACE_OUT"
	assert_output "verdict: lab=$1 server=spinning client2=hung"$'\n'"verdict: lab=$1 server=spinning client2=hung"
}

@test "sigtrace: lab 2 ends spinning, with client 2 hung, traced as untraced" { same_verdict_spinning 2-send-removed; }
@test "sigtrace: lab 3 ends spinning, with client 2 hung, traced as untraced" { same_verdict_spinning 3-sig-ign; }

# --- killing the tracer ------------------------------------------------------------------

# interrupt SIGNAL: run lab 2's scenario under the tracer (a long pause, so
# the server spins), and once the server spins and the scenario waits out its
# pause, send SIGNAL to the tracer. (Waiting there, bash runs its trap at once;
# bash 5.2 can instead fail with a syntax error when a trap runs while it
# parses a command substitution, and exit 1 or 2 after its cleanup.)
# Sets TRACE and KILLED_STATUS; the scenario's temporary files go to $SCRATCH.
interrupt() {
	TRACE=$BATS_TEST_TMPDIR/trace.jsonl
	SCRATCH=$BATS_TEST_TMPDIR/scratch
	mkdir -p "$SCRATCH"
	# A background job starts with SIGINT ignored: give it back. (spawn is
	# test_helper/common's, which hands its standard input on.)
	spawn "$BATS_TEST_TMPDIR/trace.out" env --default-signal=INT TMPDIR="$SCRATCH" \
		"$SIGTRACE" --netns -o "$TRACE" -- "$ROOT/labs/scenario" --pause 20 2-send-removed </dev/null
	local tracer=$BG_PID
	pausing() {
		grep -q '"proc":"server","call":"recv".*"ret":0' "$TRACE" 2>/dev/null &&
			grep -q '"type":"exec".*"path":"[^"]*/sleep"' "$TRACE"
	}
	wait_for 20 pausing
	TRACED_PIDS=$(jq -r 'select(.pid) | .pid' "$TRACE" | sort -u)
	kill -"$1" "$tracer"
	KILLED_STATUS=0
	wait "$tracer" || KILLED_STATUS=$?
}

# The pid of the command sigtrace started: the first event's.
top_pid() { head -n 1 "$TRACE" | jq .pid; }

# Nothing the run started is left: not stopped, not orphaned.
nothing_left() {
	local pid state
	for pid in $TRACED_PIDS; do
		state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || continue
		[[ $state != [Tt] ]] || { echo "process $pid is left stopped" >&2; return 1; }
	done
	[[ -z $(run_processes) ]]
}

@test "sigtrace: SIGINT ends the run with 130, the command cleans up, the events are complete" {
	interrupt INT
	assert_equal "$KILLED_STATUS" 130
	wait_for 5 nothing_left
	run jq -e . "$TRACE"
	assert_success
	# The scenario got SIGINT first, and ended by itself, removing its files. (Every
	# exit, and the first event, printed: bats shows them if an assertion fails.)
	head -n 1 "$TRACE"
	events '.type == "exit"'
	assert_equal "$(count ".type == \"exit\" and .pid == $(top_pid) and .code == 130")" 1
	assert_equal "$(count '.type == "exit" and .proc == "server"')" 1
	assert_equal "$(count '.type == "connection"')" 1
	assert_equal "$(find "$SCRATCH" -mindepth 1 | wc -l)" 0
}

@test "sigtrace: SIGTERM ends the run with 143, the command cleans up, the events are complete" {
	interrupt TERM
	assert_equal "$KILLED_STATUS" 143
	wait_for 5 nothing_left
	run jq -e . "$TRACE"
	assert_success
	head -n 1 "$TRACE"
	events '.type == "exit"'
	assert_equal "$(count ".type == \"exit\" and .pid == $(top_pid) and .code == 143")" 1
	assert_equal "$(count '.type == "exit" and .proc == "server"')" 1
	assert_equal "$(count '.type == "connection"')" 1
	assert_equal "$(find "$SCRATCH" -mindepth 1 | wc -l)" 0
}

@test "sigtrace: SIGINT reaches the command's whole job: a shell waiting for a foreground child runs its trap" {
	# A shell that gets SIGINT while its foreground child does not takes the
	# signal as the child's to handle, and waits on (bash's "wait and
	# cooperative exit"): the signal must reach the child too, as a terminal's
	# Ctrl-C does.
	TRACE=$BATS_TEST_TMPDIR/trace.jsonl
	spawn "$BATS_TEST_TMPDIR/trace.out" env --default-signal=INT \
		"$SIGTRACE" -o "$TRACE" -- bash -c 'trap "echo trapped; exit 130" INT; sleep 60; echo after' </dev/null
	local tracer=$BG_PID
	sleeping() { grep -q '"type":"exec".*"path":"[^"]*/sleep"' "$TRACE" 2>/dev/null; }
	wait_for 20 sleeping
	kill -INT "$tracer"
	KILLED_STATUS=0
	wait "$tracer" || KILLED_STATUS=$?
	assert_equal "$KILLED_STATUS" 130
	events '.type == "exit"'
	assert_equal "$(count '.type == "exit" and .proc == "sleep" and .signal == "SIGINT"')" 1
	assert_equal "$(count ".type == \"exit\" and .pid == $(top_pid) and .code == 130")" 1
	assert_equal "$(count '.type == "output" and (.text | startswith("trapped"))')" 1
	assert_equal "$(count '.type == "output" and (.text | startswith("after"))')" 0
}

@test "sigtrace: SIGKILL to the tracer takes every traced process with it (PTRACE_O_EXITKILL)" {
	interrupt KILL
	assert_equal "$KILLED_STATUS" 137
	wait_for 5 nothing_left
	# Every line written is whole.
	run jq -e . "$TRACE"
	assert_success
}

# --- arguments ------------------------------------------------------------------------

@test "sigtrace: --help and -h print the usage on stdout and succeed" {
	for flag in --help -h; do
		run --separate-stderr "$SIGTRACE" "$flag"
		assert_success
		assert_equal "$stderr" ""
		[[ $output == "usage: sigtrace"* ]]
		[[ $output == *"-h, --help"* ]]
	done
	# help wins over a command: nothing runs
	run --separate-stderr "$SIGTRACE" --help -- touch "$BATS_TEST_TMPDIR/ran"
	assert_success
	assert_file_not_exists "$BATS_TEST_TMPDIR/ran"
}

@test "sigtrace: no command is a usage error (2), on stderr" {
	run --separate-stderr "$SIGTRACE"
	assert_failure 2
	assert_equal "$output" ""
	[[ $stderr == *"give either a COMMAND"* ]]
	[[ $stderr == *"usage: sigtrace"* ]]
}

@test "sigtrace: an unknown option is a usage error (2), and the command does not run" {
	run --separate-stderr "$SIGTRACE" --bogus -- touch "$BATS_TEST_TMPDIR/ran"
	assert_failure 2
	assert_equal "$output" ""
	[[ $stderr == *"--bogus"* ]]
	[[ $stderr == *"usage: sigtrace"* ]]
	assert_file_not_exists "$BATS_TEST_TMPDIR/ran"
}

@test "sigtrace: conflicting or malformed options are usage errors (2)" {
	run --separate-stderr "$SIGTRACE" --json --ladder -- true
	assert_failure 2
	[[ $stderr == *"choose one of --json and --ladder"* ]]
	run --separate-stderr "$SIGTRACE" -p 70000 -- true
	assert_failure 2
	[[ $stderr == *"bad port '70000'"* ]]
	run --separate-stderr "$SIGTRACE" --netns -r "$FIXTURES/orderly.pcap"
	assert_failure 2
	[[ $stderr == *"--netns"* ]]
}

@test "sigtrace: -r with a missing file fails (1) and names the file and the reason" {
	run --separate-stderr "$SIGTRACE" -r "$BATS_TEST_TMPDIR/missing.pcap"
	assert_failure 1
	assert_equal "$output" ""
	[[ $stderr == "sigtrace: cannot read $BATS_TEST_TMPDIR/missing.pcap:"*"No such file"* ]]
}

@test "sigtrace: a command that cannot be found fails with 127 and says so" {
	run -127 --separate-stderr "$SIGTRACE" --netns -- "$BATS_TEST_TMPDIR/no-such-program"
	assert_failure 127
	[[ $stderr == *"cannot run $BATS_TEST_TMPDIR/no-such-program: No such file or directory"* ]]
}

@test "sigtrace: without the right to capture, it says the ways out, and the command does not run" {
	# A user namespace of our own: root in name, without CAP_NET_RAW on the host's network.
	unshare -Ur true 2>/dev/null || skip "user namespaces are not allowed here"
	run --separate-stderr unshare -Ur "$SIGTRACE" -- touch "$BATS_TEST_TMPDIR/ran"
	assert_failure 1
	assert_equal "$stderr" "sigtrace: cannot capture on lo: permission denied (run as root, or give sigtrace the capabilities (sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f "$SIGTRACE")), or use --netns)"
	assert_file_not_exists "$BATS_TEST_TMPDIR/ran"
}

@test "sigtrace: an output file that cannot be written fails (1) before the command runs" {
	run --separate-stderr "$SIGTRACE" --netns -o "$BATS_TEST_TMPDIR/no/dir/x.jsonl" -- touch "$BATS_TEST_TMPDIR/ran"
	assert_failure 1
	assert_equal "$stderr" "sigtrace: cannot write $BATS_TEST_TMPDIR/no/dir/x.jsonl: No such file or directory (check the directory exists and is writable)"
	run --separate-stderr "$SIGTRACE" --netns -w "$BATS_TEST_TMPDIR/no/dir/x.pcapng" -- touch "$BATS_TEST_TMPDIR/ran"
	assert_failure 1
	assert_equal "$stderr" "sigtrace: cannot write $BATS_TEST_TMPDIR/no/dir/x.pcapng: No such file or directory (check the directory exists and is writable)"
	assert_file_not_exists "$BATS_TEST_TMPDIR/ran"
}

# --- how the timeline reads ------------------------------------------------------------

# lab1_pair: lab 1's server, and one client that sends a line and leaves;
# run as a command under the tracer (in its own network namespace).
lab1_pair() {
	"$BUILD/labs/1-naive/server" 3333 >/dev/null &
	wait_for 5 listening 3333
	printf 'hello\n' | "$BUILD/labs/1-naive/client" 3333 >/dev/null
	wait "$!"
}

@test "sigtrace --ladder: client and server side by side, packets as arrows between them" {
	run "$SIGTRACE" --netns --ladder -- bash -c "$(helper_functions lab1_pair); BUILD='$BUILD' lab1_pair"
	# The command's status is sigtrace's: the server's death, as wait reports it.
	assert_failure 141
	# The header names the columns: client left, server right.
	assert_line --regexp '^ +client +\| +\| *server *$'
	assert_line --regexp '\|-+ SYN -+>\|'
	assert_line --regexp '\|<-+ SYN,ACK -+\|'
	assert_line --regexp '\|<-+ RST -+\||\|-+ RST -+>\|'
	assert_line --regexp '\|server: killed by SIGPIPE'
	# Whole, or split around the segment it sent (its entry, then "... send resumed").
	assert_line --regexp '^ +[0-9.]+  client: send\([0-9]+, "hello\\n", 6\)( = 6| \.\.\.) +\|'
}

# The colour escape: ESC [.
has_escapes() { grep -q $'\e\\[' "$1"; }

@test "sigtrace: colour only on a terminal, and never with NO_COLOR" {
	local out=$BATS_TEST_TMPDIR
	# Not a terminal: plain text, NO_COLOR or not.
	env -u NO_COLOR "$SIGTRACE" -r "$FIXTURES/write-after-close.pcap" >"$out/plain.txt"
	run has_escapes "$out/plain.txt"
	assert_failure
	assert_file_contains "$out/plain.txt" 'RST'
	# A terminal (script gives the tracer one): colour, unless NO_COLOR says no.
	env -u NO_COLOR script -qec "'$SIGTRACE' -r '$FIXTURES/write-after-close.pcap'" /dev/null >"$out/tty.txt"
	has_escapes "$out/tty.txt"
	NO_COLOR=1 script -qec "'$SIGTRACE' -r '$FIXTURES/write-after-close.pcap'" /dev/null >"$out/nocolor.txt"
	run has_escapes "$out/nocolor.txt"
	assert_failure
	assert_file_contains "$out/nocolor.txt" 'RST'
}

@test "sigtrace: the command's own lines land in the timeline after the events they report" {
	traced 1-naive
	# The scenario says client 1 left after the client's close and exit are shown...
	run grep -n -E -e 'client +(close\(3\) = 0|\.\.\. close resumed = 0)' -e 'client +exit 0' -e '^client 1 sent 2 lines' "$TRACE_OUT"
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 2 --partial 'client 1 sent 2 lines'
	# ... and that the server died only after its death is shown.
	close=$(grep -n -E 'server +killed by SIGPIPE' "$TRACE_OUT" | cut -d: -f1)
	said=$(grep -n '^server ended during the pause: signal SIGPIPE' "$TRACE_OUT" | cut -d: -f1)
	assert [ "$close" -lt "$said" ]
	# In the JSON, the scenario's lines are output events; its shell, started
	# by "#!/usr/bin/env bash", keeps the script's name.
	assert_equal "$(count '.type == "output" and .proc == "scenario" and (.text | startswith("verdict: lab=1-naive"))')" 1
	assert_equal "$(count '.type == "exec" and .proc == "scenario" and (.argv | startswith("bash "))')" 1
	assert_equal "$(count '.proc == "bash"')" 0
}

@test "sigtrace --json: standard output holds JSON Lines only; the command's own output goes to stderr" {
	run --separate-stderr "$SIGTRACE" --netns --json -- sh -c 'echo hello from the command; echo and to stderr >&2'
	assert_success
	assert_equal "$stderr" $'hello from the command\nand to stderr'
	local json=$output
	run jq -e . <<<"$json"
	assert_success
	assert_equal "$(jq -c 'select(.type == "output" and .text == "hello from the command\n")' <<<"$json" | wc -l)" 1
}

# lab2_on_our_output: lab 2's server with its standard output sigtrace's
# own; one client leaves, and the server loops printing its stale buffer
# until it has written it more than a thousand times.
lab2_on_our_output() {
	local server
	"$BUILD/labs/2-send-removed/server" 3333 &
	server=$!
	wait_for 5 listening 3333
	printf 'hello\n' | "$BUILD/labs/2-send-removed/client" 3333 >/dev/null
	# Each round of the loop is one write(2) of "hello\n\n": wait until the
	# kernel has counted 1100 of them done (each one seen by the tracer).
	# shellcheck disable=SC2317 # called through wait_for
	looped() { (($(awk '$1 == "syscw:" { print $2 }' "/proc/$server/io") >= 1100)); }
	wait_for 20 looped
	kill "$server"
}

@test "sigtrace: a loop printing the same line on sigtrace's output collapses like any repeat" {
	TRACE=$BATS_TEST_TMPDIR/trace.jsonl
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns -o "$TRACE" -- \
		bash -c "$(helper_functions lab2_on_our_output); BUILD='$BUILD' lab2_on_our_output"
	assert_success
	assert [ "$(total '.type == "output" and .proc == "server" and (.text | startswith("hello\n"))')" -ge 1000 ]
	assert [ "$(count '.type == "output" and .proc == "server"')" -lt 10 ]
	assert_output --regexp 'server +↻ repeated [0-9]+ more times .* each time: wrote "hello\\n'
	# The flood is said once, with the way out.
	run grep -c 'warning: server writes to this output' <<<"$output"
	assert_output 1
}

# --- a program it has never seen ----------------------------------------------------

# write_python_pair DIR: a server ("greeter") that ignores SIGPIPE and
# writes to a client after it left, and a client ("caller") that sends with
# sendto on its connected socket, as executable Python scripts: the kernel
# names a process after its script, so the tracer must too.
write_python_pair() {
	local python
	python=$(python3 -c 'import sys; print(sys.executable)')
	cat >"$1/greeter" <<EOF
#!$python
import signal, socket, sys, time
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen(1)
print("listening", flush=True)
conn, _ = listener.accept()
while conn.recv(100):
    pass
for attempt in range(100):
    try:
        conn.send(b"still there?\n")
    except BrokenPipeError:
        print("EPIPE after", attempt + 1, "sends", flush=True)
        sys.exit(0)
    time.sleep(0.01)
sys.exit(1)
EOF
	cat >"$1/caller" <<EOF
#!$python
import socket, sys
address = ("127.0.0.1", int(sys.argv[1]))
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.connect(address)
sock.sendto(b"hello from python\n", address)
sock.close()
EOF
	chmod +x "$1/greeter" "$1/caller"
}

# python_pair DIR: the greeter, and the caller once it listens.
python_pair() {
	local dir=$1 line
	mkfifo "$dir/said"
	"$dir/greeter" 4000 >"$dir/said" &
	exec {said}<"$dir/said"
	read -r -t 10 line <&"$said"
	[[ $line == listening ]] || return 1
	"$dir/caller" 4000
	cat <&"$said"
	wait $!
}

@test "sigtrace: a Python pair it has never seen: sendto, SIGPIPE ignored, EPIPE, names from the program" {
	local dir=$BATS_TEST_TMPDIR
	write_python_pair "$dir"
	TRACE=$dir/py.jsonl
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns -o "$TRACE" -- bash -c "$(declare -f python_pair); python_pair '$dir'"
	assert_success
	assert_output --partial 'EPIPE after'
	# Each call whole where it began (a call that takes what came in: where it returned).
	whole_calls "$TRACE" >"$dir/py.whole.jsonl"
	TRACE=$dir/py.whole.jsonl
	in_order '.type == "syscall" and .proc == "greeter" and .call == "listen" and .local == "127.0.0.1:4000"' \
		'.type == "syscall" and .proc == "caller" and .call == "connect" and .ret == 0' \
		'.type == "syscall" and .proc == "caller" and .call == "sendto" and .addr == "127.0.0.1:4000" and .ret == 18' \
		'.type == "packet" and .from == "caller" and .to == "greeter" and .data == "hello from python\n"' \
		'.type == "syscall" and .proc == "greeter" and .call == "recv" and .ret == 0' \
		'.type == "syscall" and .proc == "greeter" and .call == "send" and .ret == -1 and .errno == "EPIPE"' \
		'.type == "signal" and .proc == "greeter" and .signal == "SIGPIPE" and .disposition == "ignored"' \
		'.type == "exit" and .proc == "greeter" and .code == 0'
	assert_equal "$(count '.type == "connection" and .from == "caller" and .to == "greeter"')" 1
}

# write_mixed DIR: DIR/mixed, a Python script that uses a UNIX socket pair,
# a UDP socket, and a TCP socket that listens.
write_mixed() {
	local python
	python=$(python3 -c 'import sys; print(sys.executable)')
	cat >"$1/mixed" <<EOF
#!$python
import socket
a, b = socket.socketpair()
a.send(b"over a UNIX pair\n")
b.recv(100)
a.close()
b.close()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.sendto(b"over UDP\n", ("127.0.0.1", 9))
udp.close()
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.bind(("127.0.0.1", 0))
tcp.listen(1)
tcp.close()
EOF
	chmod +x "$1/mixed"
}

@test "sigtrace: only TCP sockets are followed: a UNIX pair, a UDP socket, a shell's user lookup stay off the timeline" {
	local dir=$BATS_TEST_TMPDIR
	write_mixed "$dir"
	TRACE=$dir/mixed.jsonl
	# Without HOME, bash asks the name service for it over a UNIX socket.
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns -o "$TRACE" -- env -i PATH="$PATH" bash -c "'$dir/mixed'; exit 0"
	assert_success
	# Its socket calls (its SIGPIPE sigaction is on the timeline too, but is no
	# socket's); a call split around something else that happened meanwhile
	# counts once: its result.
	run events '.type == "syscall" and .call != "rt_sigaction" and .part != "unfinished"'
	assert_line --index 0 --regexp '"proc":"mixed","call":"socket".*"domain":"AF_INET","socktype":"SOCK_STREAM"'
	assert_line --index 1 --partial '"call":"bind"'
	assert_line --index 2 --partial '"call":"listen"'
	assert_line --index 3 --partial '"call":"close"'
	assert_equal "${#lines[@]}" 4
	assert_equal "$(count '.proc == "bash" and .type == "syscall"')" 0
	run events '.type == "syscall" and .call == "socket"'
	assert_output --partial 'a new TCP socket'
}

@test "sigtrace: a script run by its interpreter goes by the script's name; inline code by the interpreter's" {
	local dir=$BATS_TEST_TMPDIR
	write_mixed "$dir"
	TRACE=$dir/names.jsonl
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns -o "$TRACE" -- \
		bash -c "cd '$dir' && python3 -u mixed && python3 -c 'import socket; socket.socket().close()'"
	assert_success
	assert_equal "$(count '.type == "syscall" and .proc == "mixed" and .call == "listen" and .part != "unfinished"')" 1
	assert_equal "$(count '.type == "exec" and .proc == "mixed" and (.argv | endswith("python3 -u mixed"))')" 1
	assert_equal "$(count '.type == "syscall" and .proc == "python3" and .call == "socket" and .part != "unfinished"')" 1
}

# --- calls in flight at a process's end ---------------------------------------------

@test "sigtrace: a call its process dies in is shown where it began, then said never to return, before the death" {
	local bin=$BATS_TEST_TMPDIR/dies-waiting
	cc -std=c11 -Wall -Wextra -Werror -O2 -pthread -o "$bin" "$FIXTURES/programs/dies-waiting.c"
	TRACE=$BATS_TEST_TMPDIR/dies.jsonl
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns -o "$TRACE" -- "$bin" 4444 </dev/null 3>&-
	assert_equal "$status" 143
	# The first accept returned; the second began, and the process died in it.
	in_order '.type == "syscall" and .call == "accept" and .ret >= 0' \
		'.type == "syscall" and .call == "accept" and .part == "unfinished" and .t == .entered and (has("ret") | not)' \
		'.type == "signal" and .signal == "SIGTERM"' \
		'.type == "syscall" and .call == "accept" and .part == "never_returned" and .t > .entered and (has("ret") | not) and (.note | test("killed by SIGTERM"))' \
		'.type == "exit" and .signal == "SIGTERM"'
	assert_equal "$(count '.type == "syscall" and .call == "accept" and .part == "never_returned"')" 1
	# Once: the closing part names the call its first half began.
	assert_equal "$(jq -s '[.[] | select(.call == "accept" and (.part == "unfinished" or .part == "never_returned"))] | .[-2:] | (.[0].entered == .[1].entered)' "$TRACE")" true
	run "$ROOT/scripts/causality" "$TRACE"
	assert_success
	# The text timeline says it in words.
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns -- "$bin" 4445 </dev/null 3>&-
	assert_line --regexp '  accept\(3\) \.\.\. *$'
	assert_line --regexp '\.\.\. accept\(3\) never returned +never returned: the process was killed by SIGTERM'
}

# --- exec: stamped where it began, and what it closes ---------------------------------

# exec_traced MODE: run cloexec-exec MODE under the tracer; its JSON in $TRACE.
exec_traced() {
	local bin=$BATS_FILE_TMPDIR/cloexec-exec
	[[ -x $bin ]] || cc -std=c11 -Wall -Wextra -Werror -O2 -o "$bin" "$FIXTURES/programs/cloexec-exec.c"
	TRACE=$BATS_TEST_TMPDIR/$1.jsonl
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns -o "$TRACE" -- "$bin" 4444 "$1" </dev/null 3>&-
	assert_success
}

@test "sigtrace: an exec that closes a close-on-exec socket comes before the FIN it caused, and says so" {
	exec_traced cloexec
	# The connecting side's FIN (its port is not 4444).
	local fin='.type == "packet" and (.src | endswith(":4444") | not) and (.flags | index("FIN"))'
	in_order '.type == "syscall" and .call == "connect" and .ret == 0' \
		'.type == "exec" and (.path | endswith("/true")) and (.note | test("exec closes fd 3 \\(close-on-exec, to 127.0.0.1:4444\\)"))' \
		"$fin" \
		'.type == "exit" and .proc == "true"'
	# The failed exec (ENOENT) is no exec: the command's start and /bin/true only.
	assert_equal "$(count '.type == "exec"')" 2
	assert_equal "$(count '.type == "exec" and (.argv | test("nonexistent"))')" 0
	# Nobody else closed it: the exit of /bin/true has nothing left to close.
	assert_equal "$(count '.type == "exit" and .proc == "true" and (.note | test("closes fd"))')" 0
	run "$ROOT/scripts/causality" "$TRACE"
	assert_success
}

@test "sigtrace: a socket without close-on-exec survives the exec; the FIN comes at the new program's exit" {
	exec_traced keep
	local fin='.type == "packet" and (.src | endswith(":4444") | not) and (.flags | index("FIN"))'
	in_order '.type == "exec" and (.path | endswith("/true"))' \
		'.type == "exit" and .proc == "true" and (.note | test("exit closes fd 3 \\(to 127.0.0.1:4444\\)"))' \
		"$fin"
	assert_equal "$(count '.type == "exec" and (.note | test("close-on-exec"))')" 0
	assert_equal "$(count '.type == "exec"')" 2
	run "$ROOT/scripts/causality" "$TRACE"
	assert_success
}

@test "sigtrace: after an exec, the packets and notes of a socket it kept name the new program; of one it closed, the old" {
	exec_traced keep
	local fin='.type == "packet" and (.src | endswith(":4444") | not) and (.flags | index("FIN"))'
	assert_equal "$(events "$fin" | jq -r '"\(.from) \(.note)"' | cut -d " " -f 1-5)" "true true closed its end"
	# Every packet it sends after the exec names it, and so does the connection's summary.
	run jq -c -s '(map(.type == "exec" and (.path | endswith("/true"))) | index(true)) as $exec
		| .[$exec:] | map(select(.type == "packet" and (.src | endswith(":4444") | not)) | .from) | unique' "$TRACE"
	assert_output '["true"]'
	assert_equal "$(count '.type == "connection" and .from == "true" and (.note | test("^true closed first"))')" 1
	exec_traced cloexec
	assert_equal "$(events "$fin" | jq -r '"\(.from) \(.note)"' | cut -d " " -f 1-5)" "cloexec-exec cloexec-exec closed its end"
}

# --- a socket two processes hold ---------------------------------------------------------

@test "sigtrace: a forking server's close of the accepted fd promises no FIN while its child holds it; the child's end closes it" {
	TRACE=$BATS_TEST_TMPDIR/fork.jsonl
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns -o "$TRACE" -- "$ROOT/labs/scenario" --server server-fork 8-neighbours </dev/null 3>&-
	assert_success
	# Client 1's connection: the parent accepts, forks, closes the fd while the child holds it.
	local parent fd child
	parent=$(jq -s -r '[.[] | select(.type == "syscall" and .call == "accept" and .ret >= 0)][0].pid' "$TRACE")
	fd=$(jq -s -r '[.[] | select(.type == "syscall" and .call == "accept" and .ret >= 0)][0].ret' "$TRACE")
	run events ".type == \"syscall\" and .pid == $parent and .call == \"close\" and .fd == $fd and .ret == 0"
	assert_line --index 0 --regexp "\"note\":\"fd $fd closed; the socket stays open: pid [0-9]+ \\(server-fork\\) still holds it, as fd $fd"
	refute_output --partial 'the kernel sends FIN'
	child=$(jq -s -r "[.[] | select(.type == \"syscall\" and .pid == $parent and .call == \"close\" and .fd == $fd and .ret == 0)][0].note | capture(\"pid (?<p>[0-9]+)\").p" "$TRACE")
	# The child goes on with the connection, and its end is what closes it.
	in_order ".type == \"syscall\" and .pid == $parent and .call == \"close\" and .fd == $fd and .ret == 0" \
		".type == \"syscall\" and .pid == $child and .call == \"send\" and .errno == \"EPIPE\"" \
		".type == \"exit\" and .pid == $child and .signal == \"SIGPIPE\" and (.note | test(\"exit closes fd $fd \\\\(to 127.0.0.1:\"))"
	# strace sees the same order: the fork, then the parent's close of the fd, then the child's death.
	local out=$BATS_TEST_TMPDIR/strace.txt
	timeout "$RUN_LIMIT" strace -f -qq -o "$out" -e trace=accept,accept4,clone,clone3,fork,close \
		"$ROOT/labs/scenario" --port "$(free_port)" --server server-fork 8-neighbours </dev/null >/dev/null 2>&1 3>&- || true
	local spid sfd cpid
	# A blocking accept is split: "accept(3, NULL, NULL <unfinished ...>", "<... accept resumed>) = 4".
	spid=$(awk '/accept4?( resumed>)?.*\) += [0-9]+$/ { print $1; exit }' "$out")
	sfd=$(awk '/accept4?( resumed>)?.*\) += [0-9]+$/ { print $NF; exit }' "$out")
	cpid=$(awk -v p="$spid" '$1 == p && /clone.*= [0-9]+$/ { print $NF; exit }' "$out")
	assert [ -n "$spid" ]
	assert [ -n "$cpid" ]
	# A close another process's line fell into is split the same way: its
	# "<... close resumed>) = 0" ends the "close(FD <unfinished ...>" before it.
	run awk -v p="$spid" -v c="$cpid" -v fd="$sfd" '
		$1 == p && /clone/ && $NF == c { forked = NR }
		$1 == p && /close\(/ { pending = $0 ~ ("close\\(" fd " <unfinished") }
		$1 == p && (($0 ~ ("close\\(" fd "\\) += 0")) || (pending && /<\.\.\. close resumed>.* = 0$/)) &&
			forked && !closed { closed = NR }
		$1 == c && /killed by SIGPIPE/ { died = NR }
		END { exit !(forked && closed > forked && died > closed) }' "$out"
	assert_success
}
