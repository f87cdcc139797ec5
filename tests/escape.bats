#!/usr/bin/env bats
# sigtrace, live: bytes from a traced program never reach a terminal raw. A
# copy of a lab's server named with ESC, BEL and UTF-8, given such arguments
# and printing such a verdict, shows up escaped on the text timeline, the
# ladder and the pcapng comments; its JSON parses and keeps the name's bytes
# and its UTF-8 as they are; a command line cut short says by how much.
#
# Each test runs in a subshell of its own, where run sets output and stderr:
# shellcheck disable=SC2030,SC2031,SC2154

bats_require_minimum_version 1.5.0

setup_file() {
	# The name and an argument: an OSC that retitles a terminal, a screen clear, BEL, UTF-8.
	export ODD_NAME=$'caf\xc3\xa9\e]0;X\a'
	export ODD_ARG=$'arg\e[2J\a-\xc3\xa9-\xff'
}

setup() {
	load 'test_helper/common'
	load 'test_helper/trace'
	DIR=$BATS_TEST_TMPDIR
	cp "$BUILD/labs/1-naive/server" "$DIR/$ODD_NAME"
	# The server with the odd name and arguments, one client, and a verdict with control bytes.
	cat >"$DIR/run" <<-SCRIPT
		#!/usr/bin/env bash
		set -u
		"\$1" 3333 "\$2" "\${3:-}" &
		for _ in \$(seq 500); do
			grep -q ' 0A ' /proc/net/tcp /proc/net/tcp6 2>/dev/null && break
			sleep 0.01
		done
		printf 'hello\n' | "$BUILD/labs/1-naive/client" 3333 127.0.0.1
		wait
		printf 'verdict: server=\e[2J\a caf\xc3\xa9\n' >/dev/null
	SCRIPT
	chmod +x "$DIR/run"
}

teardown() { teardown_processes; }

# odd_run OPTION...: the script under sigtrace --netns, its events in $DIR/t.jsonl
odd_run() {
	run --separate-stderr timeout "$RUN_LIMIT" "$SIGTRACE" --netns "$@" -o "$DIR/t.jsonl" -- \
		"$DIR/run" "$DIR/$ODD_NAME" "$ODD_ARG" "${LONG_ARG:-}" </dev/null 3>&-
}

# no_control_bytes TEXT: not one byte of TEXT is a C0 control but newline, or DEL.
no_control_bytes() {
	local bad=$'[\x01-\x09\x0b-\x1f\x7f]'
	if LC_ALL=C grep -q "$bad" <<<"$1"; then
		LC_ALL=C grep -n "$bad" <<<"$1" | cat -v >&2
		echo "raw control bytes (above, as cat -v shows them)" >&2
		return 1
	fi
}

@test "escape: the text timeline shows an odd name, its arguments and the verdict escaped, never raw" {
	odd_run
	assert_success
	no_control_bytes "$output"
	assert_line --partial $'exec '"$DIR"$'/caf\xc3\xa9\\x1b]0;X\\x07 3333 arg\\x1b[2J\\x07-\xc3\xa9-\\xff'
	assert_line --regexp $'^ +[0-9.]+  caf\xc3\xa9\\\\x1b]0;X\\\\x07  socket'
	assert_line $'verdict: server=\\x1b[2J\\x07 caf\xc3\xa9'
}

@test "escape: the ladder and the pcapng comments carry no raw control byte either" {
	odd_run --ladder -w "$DIR/t.pcapng"
	assert_success
	no_control_bytes "$output"
	assert_output --partial $'caf\xc3\xa9\\x1b]0;X\\x07'
	run tshark -r "$DIR/t.pcapng" -T fields -e frame.comment
	assert_success
	no_control_bytes "$output"
	assert_output --partial $'caf\xc3\xa9\\x1b]0;X\\x07: exec'
	run capinfos -k "$DIR/t.pcapng"
	no_control_bytes "$output"
	assert_output --partial $'verdict: server=\\x1b[2J\\x07 caf\xc3\xa9'
}

@test "escape: JSON parses and keeps the bytes: café as café, ESC and BEL as \\u001b and \\u0007" {
	odd_run --json
	assert_success
	no_control_bytes "$output"
	jq -e . "$DIR/t.jsonl" >/dev/null
	refute_output --partial 'Ã'
	# What jq decodes is the program's name and argument, byte for byte, but the byte
	# that is no UTF-8 (0xff), shown as \xff.
	assert_equal "$(jq -r 'select(.type == "exec" and .pid != null and (.proc | startswith("caf"))) | .proc' "$DIR/t.jsonl")" "$ODD_NAME"
	want=$"$DIR/$ODD_NAME 3333 ${ODD_ARG%$'\xff'}"'\xff'
	assert_equal "$(jq -r 'select(.type == "exec" and (.proc | startswith("caf"))) | .argv' "$DIR/t.jsonl")" "$want"
	assert_equal "$(jq -r 'select(.type == "verdict") | .server' "$DIR/t.jsonl")" $'\e[2J\a'
	assert_output --partial '"proc":"café\u001b]0;X\u0007"'
}

@test "escape: a command line cut short says so, and by how many bytes" {
	LONG_ARG=$(printf 'x%.0s' $(seq 3000))
	odd_run
	assert_success
	total=$(printf '%s 3333 %s %s' "$DIR/$ODD_NAME" "$ODD_ARG" "$LONG_ARG" | wc -c)
	cut=$(jq -r 'select(.type == "exec" and (.proc | startswith("caf"))) | .argv_cut' "$DIR/t.jsonl")
	argv=$(jq -r 'select(.type == "exec" and (.proc | startswith("caf"))) | .argv' "$DIR/t.jsonl")
	# What was kept and what was cut make the whole (the one byte 0xff is shown as \xff).
	assert_equal "$((cut + $(printf '%s' "${argv/'\xff'/X}" | wc -c)))" "$total"
	assert_output --regexp "x \\.\\.\\. \\(([0-9]+) more bytes\\)"
	shown=$(grep -oE 'x \.\.\. \([0-9]+ more bytes\)' <<<"$output" | head -n 1 | grep -oE '[0-9]+')
	assert [ "$shown" -ge "$cut" ]
}

@test "escape: a verdict line too long to keep says by how many bytes it was cut" {
	cat >"$DIR/long-verdict" <<-'SCRIPT'
		#!/usr/bin/env bash
		printf 'verdict: lab=x %s\n' "$(printf 'y%.0s' $(seq 3000))" >/dev/null
	SCRIPT
	chmod +x "$DIR/long-verdict"
	run --separate-stderr timeout "$RUN_LIMIT" "$SIGTRACE" --json -- "$DIR/long-verdict" </dev/null 3>&-
	assert_success
	line=$(jq -r 'select(.type == "verdict") | .line' <<<"$output")
	[[ $line =~ ^lab=x\ (y+)\ \.\.\.\ \(([0-9]+)\ more\ bytes\)$ ]]
	# What was kept and what was cut make the line: "x " and 3000 bytes of y.
	assert_equal "$((${#BASH_REMATCH[1]} + BASH_REMATCH[2]))" 3000
}
