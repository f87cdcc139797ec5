#!/usr/bin/env bats
# sigtrace -r FILE --summary: the connections' records alone, the same records
# the full timeline ends with (text and JSON), and the same counts of frames
# skipped; options that need each packet are refused.

bats_require_minimum_version 1.5.0

setup() {
	load 'test_helper/common'
	FIXTURES=$BATS_TEST_DIRNAME/fixtures
	SIGTRACE=${SIGTRACE:-$BUILD/sigtrace}
}

teardown() { teardown_processes; }

# sigtrace FILE ARG...: sigtrace -r FILE ARG..., its exit status, standard
# output and standard error kept for records and others below.
sigtrace() {
	local file=$1 status=0
	shift
	"$SIGTRACE" -r "$file" "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || status=$?
	echo "$status" >"$BATS_TEST_TMPDIR/status"
}

readonly RECORD='^ {10}  connection  |^\{"t":[0-9.]+,"type":"(connection|skipped)"'

# records: of the last run, "exit N", its standard error, and the lines of
# standard output that are records: the text timeline's connection lines, or
# the JSON connection and skipped events.
records() {
	echo "exit $(<"$BATS_TEST_TMPDIR/status")"
	echo "$(<"$BATS_TEST_TMPDIR/err")"
	grep -E "$RECORD" "$BATS_TEST_TMPDIR/out" || true
}

# others: the lines of the last run's standard output that are not records.
others() { grep -vE "$RECORD" "$BATS_TEST_TMPDIR/out" || true; }

# same_records FILE ARG...: --summary gives the records the full run gives, and nothing else.
same_records() {
	local file=$1 full summary
	shift
	sigtrace "$file" "$@"
	full=$(records)
	sigtrace "$file" --summary "$@"
	summary=$(records)
	assert_equal "$summary" "$full"
	assert_equal "$(others)" ""
}

@test "summary: every fixture's records are the full run's, line for line, text and JSON, and nothing else" {
	local file total=0 n
	for file in "$FIXTURES"/*.pcap "$FIXTURES"/*.pcapng; do
		same_records "$file" --json
		same_records "$file"
		n=$(grep -c '  connection  ' "$BATS_TEST_TMPDIR/out") || true
		total=$((total + n))
	done
	# Not a comparison of empty outputs: the fixtures hold dozens of connections.
	((total >= 40)) || fail "only $total connection records in all the fixtures"
	# The counts of skipped frames are kept: on standard error and as JSON events.
	sigtrace "$FIXTURES/bad-time.pcap" --summary --json
	run records
	assert_line 'sigtrace: skipped 2 frames with no TCP segment it could read: 2 impossible timestamp (fraction of a second out of range)'
	assert_line --partial '"type":"skipped","reason":"impossible timestamp (fraction of a second out of range)","frames":2}'
}

@test "summary: a generated capture of thousands of connections, timers running out in between, gives the full run's records" {
	local cap=$BATS_TEST_TMPDIR/many.pcap
	"$BUILD/gencap" -o "$cap" -n 40000 -c 100
	same_records "$cap" --json
	same_records "$cap"
	assert_equal "$(<"$BATS_TEST_TMPDIR/status")" 0
	# gencap's connections close three ways: orderly, reset at once, reset after a late reply.
	local closes
	closes=$(grep -oE ': (SF ShADdFf|RSTO ShADdR|RSTO ShADdFR)  ' "$BATS_TEST_TMPDIR/out" | sort | uniq -c)
	(($(wc -l <<<"$closes") == 3)) || fail "not the three closes: $closes"
	local n
	n=$(grep -c '  connection  ' "$BATS_TEST_TMPDIR/out")
	((n > 1000)) || fail "only $n connections"
}

@test "summary: options that need each packet are refused (2), saying why, and nothing is written" {
	local flag
	for flag in --ladder --html --svg -w; do
		local args=("$flag")
		[[ $flag == --ladder ]] || args+=("$BATS_TEST_TMPDIR/out$flag")
		run "$SIGTRACE" -r "$FIXTURES/orderly.pcap" --summary "${args[@]}"
		assert_failure 2
		assert_line "sigtrace: $flag needs each packet, and --summary leaves the packets out: give one or the other"
		refute_output --partial 'connection '
		assert_file_not_exists "$BATS_TEST_TMPDIR/out$flag"
	done
	run "$SIGTRACE" --summary -- true
	assert_failure 2
	assert_line 'sigtrace: --summary summarises a capture file: give -r FILE'
}

@test "summary: -f, --zeek-log and -o are honoured" {
	local log=$BATS_TEST_TMPDIR/conn.log jsonl=$BATS_TEST_TMPDIR/events.jsonl
	run "$SIGTRACE" -r "$FIXTURES/expiry-close.pcap" --summary -f 'port 40001' \
		--zeek-log "$log" -o "$jsonl"
	assert_success
	assert_output --regexp '^ +connection +10\.0\.0\.1:40001 → 10\.0\.0\.2:3333: OTH Da  '
	assert_equal "${#lines[@]}" 1
	run grep -c '^[^#]' "$log"
	assert_output 1
	run grep -v '^#' "$log"
	assert_output --regexp '	10\.0\.0\.1	40001	10\.0\.0\.2	3333	tcp	.*	OTH	'
	run cat "$jsonl"
	assert_equal "${#lines[@]}" 1
	assert_output --partial '"type":"connection","src":"10.0.0.1:40001","dst":"10.0.0.2:3333","conn_state":"OTH","history":"Da"'
}
