#!/usr/bin/env bats
# sigtrace -w: the pcapng files we write are read by capinfos and tshark
# (Wireshark's tools, independent of ours): every packet, every note as a
# packet comment, nanosecond timestamps, and no complaint.


setup() {
	load 'test_helper/common'
	FIXTURES=$BATS_TEST_DIRNAME/fixtures
	SIGTRACE=${SIGTRACE:-$BUILD/sigtrace}
	OUT=$BATS_TEST_TMPDIR
}

teardown() { teardown_processes; }

# write_pcapng FIXTURE: annotate FIXTURE into $OUT/FIXTURE.pcapng and .jsonl.
write_pcapng() {
	"$SIGTRACE" --json -r "$FIXTURES/$1" -w "$OUT/$1.pcapng" >"$OUT/$1.jsonl"
}

# packets_in FILE: how many packets tshark reads from FILE.
packets_in() { tshark -r "$1" -T fields -e frame.number 2>/dev/null | grep -c . || true; }

# json_packets FILE: how many packet events FILE (JSON Lines) holds.
json_packets() { grep -c '"type":"packet"' "$1" || true; }

@test "pcapng: capinfos reads every packet of every file we write, as many as the JSON has" {
	# (golden.bats' comments cases have tshark read each of these files too,
	# once a file: tshark takes most of a second to start.)
	local f name
	for f in "$FIXTURES"/*.pcap*; do
		name=${f##*/}
		[[ $name == damaged-cut.pcap ]] && continue # a read error: tested below
		# A link type sigtrace refuses (offline.bats says so): no file is written.
		[[ $name == linktype-80211.pcap ]] && continue
		write_pcapng "$name"
		run capinfos -T -r -c -M "$OUT/$name.pcapng"
		assert_success
		assert_equal "${output##*$'\t'}" "$(json_packets "$OUT/$name.jsonl")"
	done
}

@test "pcapng: each packet's note is its frame comment" {
	write_pcapng write-after-close.pcap
	tshark -r "$OUT/write-after-close.pcap.pcapng" -T fields -e frame.comment >"$OUT/comments" 2>/dev/null
	assert_equal "$(grep -c . "$OUT/comments")" 11
	local note
	while IFS= read -r note; do
		grep -qF -- "$note" "$OUT/comments" || fail "no frame comment holds: $note"
	done < <(grep '"type":"packet"' "$OUT/write-after-close.pcap.jsonl" | sed -E 's/.*"note":"([^"]*)".*/\1/')
	run cat "$OUT/comments"
	assert_output --partial 'writing to a peer that may be gone'
}

@test "pcapng: capinfos sees nanosecond timestamps, the application and the file comment" {
	write_pcapng write-after-close.pcap
	run capinfos "$OUT/write-after-close.pcap.pcapng"
	assert_success
	refute_output --regexp '[Ww][Aa][Rr][Nn][Ii][Nn][Gg]'
	assert_output --regexp 'File timestamp precision: +nanoseconds \(9\)'
	assert_output --regexp 'Capture application: +sigtrace'
	assert_output --partial 'Capture comment:'
	assert_output --partial 'RSTO'
}

@test "pcapng: timestamps keep their nanoseconds" {
	write_pcapng orderly-ipv6.pcapng
	first_json=$(grep -m1 '"type":"packet"' "$OUT/orderly-ipv6.pcapng.jsonl" | sed -E 's/^\{"t":([0-9.]+),.*/\1/')
	first_tshark=$(tshark -r "$OUT/orderly-ipv6.pcapng.pcapng" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
	assert_equal "$first_tshark" "$first_json"
	assert_regex "$first_tshark" '^[0-9]+\.[0-9]{9}$'
}

@test "pcapng: a file from a capture cut short ends with whole blocks" {
	run "$SIGTRACE" --json -r "$FIXTURES/damaged-cut.pcap" -w "$OUT/cut.pcapng"
	assert_failure 1
	run tshark -r "$OUT/cut.pcapng"
	assert_success
	assert_equal "$(packets_in "$OUT/cut.pcapng")" 10
}

@test "pcapng: a live run's file holds the lab 1 story in its comments" {
	local labs=$BUILD/labs/1-naive
	# In a private namespace: port 3333 is free there, and only this run's packets are seen.
	# shellcheck disable=SC2016 # expanded by the inner bash
	run timeout 30 "$SIGTRACE" --netns --json -w "$OUT/live.pcapng" -- bash -c '
		"$1/server" 3333 &
		for _ in $(seq 500); do grep -q ":0D05 00000000:0000 0A" /proc/net/tcp && break; sleep 0.01; done
		printf "hello\nworld\n" | "$1/client" 3333
		wait' live "$labs"
	assert_success
	printf '%s\n' "$output" >"$OUT/live.jsonl"
	assert_equal "$(packets_in "$OUT/live.pcapng")" "$(json_packets "$OUT/live.jsonl")"
	run tshark -r "$OUT/live.pcapng" -T fields -e frame.comment
	assert_output --partial "client's socket is fully closed"
	run capinfos "$OUT/live.pcapng"
	assert_output --partial 'killed by SIGPIPE'
}

@test "pcapng: lab 1's file tells the story the timeline tells, not the scenario's helpers" {
	run timeout 60 "$SIGTRACE" --netns -w "$OUT/lab-1.pcapng" -o "$OUT/lab-1.jsonl" -- \
		"$ROOT/labs/scenario" 1-naive </dev/null
	assert_success
	# The helpers ran, traced: the JSON has them ...
	local name
	for name in grep awk find; do
		(($(jq -c "select(.type == \"exec\" and .proc == \"$name\")" "$OUT/lab-1.jsonl" | wc -l) > 0)) ||
			fail "no exec of $name in the JSON: nothing to filter out"
	done
	# ... but no packet comment and not the file's comment speak of them.
	# A frame's comments come joined by commas; each begins with who it is about.
	tshark -r "$OUT/lab-1.pcapng" -T fields -e frame.comment >"$OUT/comments" 2>/dev/null
	capinfos "$OUT/lab-1.pcapng" >"$OUT/capinfos"
	run grep -E '(^|,)(grep|awk|find)( [0-9]+)?: |SIGCHLD' "$OUT/comments"
	assert_failure
	run grep -E '(^|[ :])(grep|awk|find)( [0-9]+)?: |SIGCHLD' "$OUT/capinfos"
	assert_failure
	# The file's comment stays short: the command, the verdict, the last few events.
	run capinfos "$OUT/lab-1.pcapng"
	assert_output --partial 'verdict: lab=1-naive server=killed-by-SIGPIPE'
	(($(grep -A1000 'Capture comment:' "$OUT/capinfos" | wc -c) < 2048))
	# The story is there: the server's failed send, its SIGPIPE, its death.
	run cat "$OUT/comments"
	assert_output --regexp 'server: send\([0-9]+, "done\\n", 5\) = -1 EPIPE'
	assert_output --partial 'server: SIGPIPE (default: terminate)'
	assert_output --partial 'server: killed by SIGPIPE'
}

@test "pcapng: a run killed with SIGKILL leaves a file tshark opens" {
	# shellcheck disable=SC2016 # expanded by the inner bash
	spawn "$OUT/killed.out" "$SIGTRACE" --netns -w "$OUT/killed.pcapng" -- bash -c '
		"$1/server" 3333 &
		for _ in $(seq 500); do grep -q ":0D05 00000000:0000 0A" /proc/net/tcp && break; sleep 0.01; done
		printf "hello\n" | "$1/client" 3333
		exec sleep 60' killed "$BUILD/labs/1-naive"
	# Wait until the connection's last packet (the client's RST) is in the file.
	wait_for 20 grep -q 'SIGPIPE' "$OUT/killed.out"
	kill -KILL "$BG_PID"
	wait_for 5 gone "$BG_PID"
	run tshark -r "$OUT/killed.pcapng"
	assert_success
	run capinfos "$OUT/killed.pcapng"
	assert_success
	refute_output --regexp '[Ww][Aa][Rr][Nn][Ii][Nn][Gg]'
}
