#!/usr/bin/env bats
# sigtrace -r: captures made elsewhere (tests/fixtures/, made by
# scripts/make-fixtures with dumpcap) are annotated packet by packet, and
# each connection is summarised in Zeek's terms.

bats_require_minimum_version 1.5.0

setup() {
	load 'test_helper/common'
	FIXTURES=$BATS_TEST_DIRNAME/fixtures
	SIGTRACE=${SIGTRACE:-$BUILD/sigtrace}
}

teardown() { teardown_processes; }

# annotate FIXTURE: sigtrace --json -r FIXTURE; sets $status and $output,
# and keeps the output in $JSON for the helpers below.
annotate() {
	run "$SIGTRACE" --json -r "$FIXTURES/$1"
	JSON=$output
}

# connection_line: the connection summary in $JSON.
connection_line() { grep '"type":"connection"' <<<"$JSON"; }

# packet_count: how many packet events $JSON holds.
packet_count() { grep -c '"type":"packet"' <<<"$JSON" || true; }

@test "offline: an orderly close is SF, and both FINs are explained" {
	annotate orderly.pcap
	assert_success
	assert_equal "$(packet_count)" 11
	assert_output --partial 'the client asks to connect'
	assert_output --partial 'the client closed its end'
	assert_output --partial 'the server closes its end too'
	run connection_line
	assert_output --partial '"conn_state":"SF"'
	assert_output --partial '"history":"ShADadFf"'
}

@test "offline: a record that claims more bytes captured than on the wire is read, and counted on stderr" {
	# orderly.pcap with its first record's length on the wire one byte short
	# of its captured length (little-endian fields at bytes 32 and 36).
	local f=$BATS_TEST_TMPDIR/over.pcap cap
	cp "$FIXTURES/orderly.pcap" "$f"
	cap=$(od -A n -t u4 -j 32 -N 4 "$f" | tr -d ' ')
	printf '%b' "$(printf '\\x%02x\\x%02x\\x00\\x00' $(((cap - 1) & 255)) $(((cap - 1) >> 8 & 255)))" |
		dd of="$f" bs=1 seek=36 conv=notrunc 2>/dev/null
	assert_equal "$(od -A n -t u4 -j 36 -N 4 "$f" | tr -d ' ')" $((cap - 1))
	run --separate-stderr "$SIGTRACE" --json -r "$f"
	assert_success
	# shellcheck disable=SC2154 # run --separate-stderr sets it
	assert_equal "$stderr" "sigtrace: 1 frame claimed more bytes captured than the packet had on the wire (caplen > len, which no capture writes: the file was edited or damaged); read as captured"
	# Every packet is still there, and the connection as the untouched file's.
	local over=$output
	annotate orderly.pcap
	assert_equal "$(grep -c '"type":"packet"' <<<"$over")" "$(packet_count)"
	assert_equal "$(grep '"type":"connection"' <<<"$over")" "$(connection_line)"
}

@test "offline: data after the client's FIN is RSTO, and its RST means EPIPE and SIGPIPE" {
	annotate write-after-close.pcap
	assert_success
	assert_output --partial 'writing to a peer that may be gone'
	assert_output --partial "the client's socket is fully closed"
	assert_output --partial 'fails with EPIPE and raises SIGPIPE'
	run connection_line
	assert_output --partial '"conn_state":"RSTO"'
	assert_output --partial '"history":"ShADadFR"'
}

@test "offline: a server that never closes after the client's FIN is S2" {
	annotate half-close.pcap
	assert_success
	run connection_line
	assert_output --partial '"conn_state":"S2"'
	assert_output --partial '"history":"ShADadF"'
	assert_output --partial 'the server never closed its end'
}

@test "offline: a server closing with unread data sends RST: RSTR, ECONNRESET first" {
	annotate unread.pcap
	assert_success
	assert_output --partial 'closed with unread data'
	assert_output --partial 'ECONNRESET, the one after with EPIPE'
	run connection_line
	assert_output --partial '"conn_state":"RSTR"'
	assert_output --partial '"history":"ShADar"'
}

@test "offline: SO_LINGER zero is an abortive close: RSTO, ECONNRESET first" {
	annotate linger0.pcap
	assert_success
	assert_output --partial 'SO_LINGER'
	refute_output --partial 'unread data'
	run connection_line
	assert_output --partial '"conn_state":"RSTO"'
	assert_output --partial '"history":"ShADaR"'
	assert_output --partial 'ECONNRESET'
}

@test "offline: a bare RST after the handshake, from the client, is RSTO: an abort, nothing left unread" {
	annotate abort-idle.pcap
	assert_success
	assert_equal "$(packet_count)" 4
	run connection_line
	assert_output --partial '"conn_state":"RSTO"'
	assert_output --partial '"history":"ShAR"'
	assert_output --partial '"orig_bytes":0,"resp_bytes":0'
	assert_output --partial 'the client closed first, with RST and no FIN'
	assert_output --partial "the server's next recv() or send() fails with ECONNRESET"
	refute_output --partial 'unread'
}

@test "offline: the same abort from the server is RSTR, and the client is the one told ECONNRESET" {
	annotate server-abort-idle.pcap
	assert_success
	run connection_line
	assert_output --partial '"conn_state":"RSTR"'
	assert_output --partial '"history":"ShAr"'
	assert_output --partial 'the server closed first, with RST and no FIN'
	assert_output --partial "the client's next recv() or send() fails with ECONNRESET"
}

@test "offline: a connect to a port nobody listens on is REJ: connection refused" {
	annotate refused.pcap
	assert_success
	assert_equal "$(packet_count)" 2
	assert_output --partial 'connection refused: nothing listens on port 3333'
	assert_output --partial 'ECONNREFUSED'
	run connection_line
	assert_output --partial '"conn_state":"REJ"'
	assert_output --partial '"history":"Sr"'
}

@test "offline: IPv6 in a pcapng file reads as IPv4 in pcap does" {
	annotate orderly-ipv6.pcapng
	assert_success
	assert_equal "$(packet_count)" 11
	assert_output --partial '"src":"[::1]:'
	run connection_line
	assert_output --partial '"conn_state":"SF"'
	assert_output --partial '"history":"ShADadFf"'
}

@test "offline: Linux cooked v2 frames (-i any) decode like Ethernet ones" {
	annotate any-sll2.pcap
	assert_success
	assert_equal "$(packet_count)" 11
	run connection_line
	assert_output --partial '"conn_state":"RSTO"'
	assert_output --partial '"history":"ShADadFR"'
}

@test "offline: data acknowledged but never captured is a content gap each way: G, g, missed_bytes" {
	annotate gap-both.pcap
	assert_success
	assert_equal "$(packet_count)" 9
	assert_output --partial '6 bytes from the client that this acknowledges never appeared in the capture'
	assert_output --partial '6 bytes from the server that this acknowledges never appeared in the capture'
	run connection_line
	assert_output --partial '"conn_state":"SF","history":"ShAaGgFf"'
	assert_output --partial '"missed_bytes":12'
	# The close was orderly, but not before saying what the capture missed.
	assert_output --regexp '"note":"12 bytes were never seen by the capture \(6 sent by the client, 6 by the server\).*an orderly close'
	run "$SIGTRACE" -r "$FIXTURES/gap-both.pcap"
	assert_success
	assert_output --partial 'SF ShAaGgFf, 12 bytes missed'
}

@test "offline: data seen past a hole is said at once; only the hole is missed when acknowledged" {
	annotate gap-past-hole.pcap
	assert_success
	assert_output --partial 'it starts 4 bytes past the last the capture showed from the client'
	run connection_line
	assert_output --partial '"history":"ShADaGFf"'
	assert_output --partial '"missed_bytes":4'
	annotate orderly.pcap
	run connection_line
	assert_output --partial '"missed_bytes":0'
}

# zeek_columns LOG: conn_state, history and missed_bytes of each line of
# a conn.log, found by the names its #fields line gives them (as zeek-cut does).
zeek_columns() {
	awk -F'\t' '
		$1 == "#fields" { for (i = 2; i <= NF; i++) col[$i] = i - 1; next }
		/^#/ { next }
		{ print $col["conn_state"], $col["history"], $col["missed_bytes"] }
	' "$1"
}

# text_summaries FIXTURE: the same three from the text timeline's summary lines.
text_summaries() {
	"$SIGTRACE" -r "$FIXTURES/$1" | sed -nE \
		's/^ +connection +.*: ([A-Z0-9]+) ([^ ,]*)(, ([0-9]+) bytes? missed)?  .*/\1 \2 \4/p' |
		awk '{ print $1, $2, ($3 == "" ? 0 : $3) }'
}

@test "offline: --zeek-log writes conn.log whose states, histories and missed bytes are the timeline's" {
	local log=$BATS_TEST_TMPDIR/conn.log fixture
	for fixture in orderly.pcap gap-both.pcap gap-past-hole.pcap write-after-close.pcap \
		expiry-idle.pcap refused.pcap; do
		run "$SIGTRACE" -r "$FIXTURES/$fixture" --zeek-log "$log"
		assert_success
		run head -n 8 "$log"
		assert_line --index 0 '#separator \x09'
		assert_line --index 4 "#path	conn"
		assert_line --index 7 --regexp '^#types	time	string	addr	port	addr	port	enum	'
		run tail -n 1 "$log"
		assert_output --regexp '^#close	'
		[[ -n $(zeek_columns "$log") ]] || fail "$fixture: no connection in $log"
		assert_equal "$(zeek_columns "$log")" "$(text_summaries "$fixture")"
	done
	run zeek_columns "$log"
	assert_output 'REJ Sr 0'
	"$SIGTRACE" -r "$FIXTURES/gap-both.pcap" --zeek-log "$log" >/dev/null
	run zeek_columns "$log"
	assert_output 'SF ShAaGgFf 12'
	assert_equal "$(find "$BATS_TEST_TMPDIR" -name 'conn.log.*' | wc -l)" 0
}

@test "offline: --zeek-log to a directory that does not exist is refused before reading" {
	run "$SIGTRACE" -r "$FIXTURES/orderly.pcap" --zeek-log "$BATS_TEST_TMPDIR/no/such/conn.log"
	assert_failure
	assert_output --partial "cannot write $BATS_TEST_TMPDIR/no/such/conn.log"
	assert_output --partial 'check the directory exists and is writable'
	refute_output --partial 'asks to connect'
}

@test "offline: payloads cut by the snap length still count at their wire length" {
	annotate snaplen-68.pcap
	assert_success
	# The SYN and SYN-ACK carry more options than 68 bytes hold: skipped.
	assert_equal "$(packet_count)" 9
	assert_output --partial '"len":5'
	assert_output --partial 'fails with EPIPE and raises SIGPIPE'
	run connection_line
	assert_output --partial '"history":"ADadFR"'
	assert_output --partial '"resp_bytes":9'
}

@test "offline: TCP headers cut by the snap length are skipped, not misread" {
	annotate damaged-snaplen.pcap
	assert_success
	assert_equal "$(packet_count)" 1
	assert_output --partial 'whose earlier segments the capture does not show'
}

@test "offline: frames with impossible header fields are skipped, the rest annotated" {
	annotate damaged-headers.pcap
	assert_success
	assert_equal "$(packet_count)" 7
	run connection_line
	assert_output --partial '"conn_state":"SF"'
}

@test "offline: TCP behind VLAN tags, QinQ and IPv6 extension headers reads as it does plain" {
	local f
	for f in vlan.pcap qinq.pcap ipv6-ext.pcap; do
		annotate "$f"
		assert_success
		assert_equal "$(packet_count)" 11
		run connection_line
		assert_output --partial '"conn_state":"SF"'
		assert_output --partial '"history":"ShADadFf"'
	done
	run connection_line
	assert_output --partial '"src":"[fd00::7f00:1]:52132"'
}

@test "offline: -f is the file's whole filter: 'vlan and tcp' finds the tagged connection, 'udp' none" {
	run "$SIGTRACE" --json -r "$FIXTURES/vlan.pcap" -f 'vlan and tcp'
	assert_success
	JSON=$output
	assert_equal "$(packet_count)" 11
	run "$SIGTRACE" --json -r "$FIXTURES/vlan.pcap" -f 'udp'
	assert_success
	JSON=$output
	assert_equal "$(packet_count)" 0
}

# connections FIXTURE: each connection of FIXTURE as "SRC CONN_STATE HISTORY ORIG_PKTS RESP_PKTS".
connections() {
	"$SIGTRACE" --json -r "$FIXTURES/$1" |
		jq -r 'select(.type == "connection") | "\(.src) \(.conn_state) \(.history) \(.orig_pkts) \(.resp_pkts)"'
}

@test "offline: the same conversation behind MPLS, in PPPoE and through seven tunnels is nine orderly connections" {
	# encapsulations.pcap: orderly.pcap nine times, client ports 40001 to 40009, in
	# the order scripts/make-fixtures writes them; Teredo carries IPv6.
	run connections encapsulations.pcap
	assert_success
	local expected="" port way
	for port in 40001 40002 40003 40004 40005 40006 40007 40008 40009; do
		[[ $port == 40008 ]] && way="[fd00::7f00:1]" || way=127.0.0.1
		expected+="$way:$port SF ShADadFf 6 5"$'\n'
	done
	assert_equal "$output" "${expected%$'\n'}"
	# The seven tunnels are named, with their outer ends; MPLS and PPPoE are none.
	run jq -r 'select(.type == "connection") | "\(.tunnel)/\(.tunnel_src)/\(.tunnel_dst)"' \
		< <("$SIGTRACE" --json -r "$FIXTURES/encapsulations.pcap")
	assert_equal "$(paste -sd'|' <<<"$output")" \
		"null/null/null|null/null/null|IP in IP/192.0.2.1/192.0.2.2|GRE/192.0.2.1/192.0.2.2|VXLAN/192.0.2.1/192.0.2.2|Geneve/192.0.2.1/192.0.2.2|GTP-U/192.0.2.1/192.0.2.2|Teredo/192.0.2.1/192.0.2.2|AYIYA/192.0.2.1/192.0.2.2"
	run "$SIGTRACE" -r "$FIXTURES/encapsulations.pcap"
	assert_line --partial '127.0.0.1:40004 → 127.0.0.1:3333: SF ShADadFf, through GRE (192.0.2.1 → 192.0.2.2)'
	# Every frame was read: nothing skipped.
	run "$SIGTRACE" -r "$FIXTURES/encapsulations.pcap"
	assert_success
	refute_output --partial 'skipped'
}

@test "offline: IPv4 fragments are skipped and counted, never read as segments" {
	run --separate-stderr "$SIGTRACE" --json -r "$FIXTURES/fragments.pcap"
	assert_success
	JSON=$output
	# orderly.pcap's 11 frames, the one with data in two fragments: 10 segments read.
	assert_equal "$(packet_count)" 10
	assert_equal "$(jq -r 'select(.type == "skipped") | "\(.frames) \(.reason)"' <<<"$JSON")" \
		"2 IPv4 fragment, not reassembled"
	run "$SIGTRACE" -r "$FIXTURES/fragments.pcap"
	assert_output --partial 'skipped 2 frames with no TCP segment it could read: 2 IPv4 fragment, not reassembled'
}

@test "offline: data past tcp_close_delay after a RST is a new connection, however many segments come between" {
	local f
	for f in expiry-close.pcap expiry-close-260.pcap; do
		run connections "$f"
		assert_success
		assert_line --index 0 '10.0.0.1:40000 RSTO ShAR 3 1'
		assert_line '10.0.0.2:3333 RSTRH Dr 1 1'
	done
	# The same connection alone reads the same.
	run "$SIGTRACE" --json -r "$FIXTURES/expiry-close.pcap" -f 'port 40000'
	assert_success
	JSON=$output
	run grep -c '"type":"connection"' <<<"$JSON"
	assert_output 2
}

@test "offline: a SYN unanswered for tcp_attempt_delay is one attempt; the SYN after it another" {
	run connections expiry-attempt.pcap
	assert_success
	assert_equal "${lines[*]}" '10.0.0.1:40000 S0 S 3 0 10.0.0.1:40000 S0 S 1 0'
}

@test "offline: a connection silent past tcp_inactivity_timeout ends; what follows is a partial one" {
	run connections expiry-idle.pcap
	assert_success
	assert_equal "${lines[*]}" '10.0.0.1:40000 S1 ShADd 4 2 10.0.0.1:40000 OTH Da 1 1'
}

@test "offline: a capture begun mid-connection is oriented by the ports, as Zeek does ('^' when flipped)" {
	run connections midstream-80.pcap
	assert_success
	assert_output '10.0.0.1:40000 SF ^dAFf 3 2'
	run connections midstream-3333.pcap
	assert_success
	assert_output '10.0.0.2:3333 SF DafF 2 3'
}

@test "offline: frames with impossible timestamps are skipped and counted; every line stays JSON" {
	run "$SIGTRACE" --json -r "$FIXTURES/bad-time.pcap"
	assert_success
	JSON=$(grep '^{' <<<"$output")
	assert_equal "$(packet_count)" 9
	# Each line parses, and no time is negative or has a fraction beyond 9 digits.
	run jq -e -s 'all(.[]; (.t | type) == "number" and .t > 0)' <<<"$JSON"
	assert_success
	refute_output --partial '.-'
	run grep -c '"reason":"impossible timestamp (fraction of a second out of range)","frames":2' <<<"$JSON"
	assert_output 1
	run "$SIGTRACE" -r "$FIXTURES/bad-time.pcap"
	assert_output --partial 'skipped 2 frames'
	assert_output --partial '2 impossible timestamp (fraction of a second out of range)'
}

@test "offline: a link type sigtrace does not decode is refused by its name" {
	run "$SIGTRACE" -r "$FIXTURES/linktype-80211.pcap"
	assert_failure 1
	assert_output --partial 'its link type (105, IEEE802_11 (802.11)) is not one sigtrace decodes'
	assert_output --partial 'sigtrace decodes Ethernet'
}

@test "offline: a file cut mid-record fails with a message, after annotating what it holds" {
	annotate damaged-cut.pcap
	assert_failure 1
	assert_equal "$(packet_count)" 10
	assert_output --partial 'sigtrace: cannot read'
	assert_output --partial 'damaged-cut.pcap'
	# Its connection's record says it is of a file cut short, not of how the connection went on.
	assert_equal "$(connection_line | jq -r '.capture_cut')" true
	assert_equal "$(connection_line | jq -r '.note | startswith("(the capture ends cut short: this is what it holds) ")')" true
	annotate orderly.pcap
	assert_equal "$(connection_line | jq -r '.capture_cut')" null
}

@test "offline: a file that is not a capture is refused with a reason" {
	printf 'not a capture file\n' >"$BATS_TEST_TMPDIR/text.pcap"
	run "$SIGTRACE" -r "$BATS_TEST_TMPDIR/text.pcap"
	assert_failure 1
	assert_output --partial 'sigtrace: '
	assert_output --partial 'text.pcap'
	run "$SIGTRACE" -r "$BATS_TEST_TMPDIR/missing.pcap"
	assert_failure 1
	assert_output --partial 'missing.pcap'
}

@test "offline: an output that is the capture being read is refused (2), and the capture stays whole" {
	local cap=$BATS_TEST_TMPDIR/mine.pcapng
	cp "$FIXTURES/orderly-ipv6.pcapng" "$cap"
	ln "$cap" "$BATS_TEST_TMPDIR/link.pcapng"
	run "$SIGTRACE" -r "$cap" -w "$cap"
	assert_failure 2
	assert_output --partial "-w $cap is the capture -r reads"
	# Another name for the same file, and the capture on standard input.
	run "$SIGTRACE" -r "$cap" -o "$BATS_TEST_TMPDIR/link.pcapng"
	assert_failure 2
	assert_output --partial 'is the capture -r reads'
	run "$SIGTRACE" -r - -w "$BATS_TEST_TMPDIR/link.pcapng" <"$cap"
	assert_failure 2
	cmp "$cap" "$FIXTURES/orderly-ipv6.pcapng"
	# Both outputs in one file would mix them.
	run "$SIGTRACE" -r "$cap" -w "$BATS_TEST_TMPDIR/out" -o "$BATS_TEST_TMPDIR/out"
	assert_failure 2
	assert_output --partial 'both name'
	[[ ! -e $BATS_TEST_TMPDIR/out ]]
}

@test "offline: --ladder-file draws what --ladder prints, for every fixture, beside the text timeline" {
	# One run a fixture, against its golden text and ladder (tests/golden/TESTLIST), which end
	# as scripts/golden ends them: what went to standard error, after a marker line.
	local input mode expected rest f rc drawn=0 err=$BATS_TEST_TMPDIR/stderr
	while read -r _ input mode expected rest; do
		[[ $mode == ladder && $input == fixture:* ]] || continue
		rc=0
		"$SIGTRACE" -r "$FIXTURES/${input#fixture:}" --ladder-file "$BATS_TEST_TMPDIR/ladder" \
			>"$BATS_TEST_TMPDIR/text" 2>"$err" || rc=$?
		((rc == 0)) || continue
		if [[ -s $err ]]; then
			for f in text ladder; do
				{ echo "--- stderr, exit 0 ---"; cat "$err"; } >>"$BATS_TEST_TMPDIR/$f"
			done
		fi
		# Standard output is the text timeline, as without the option; the file, the ladder.
		run diff "$BATS_TEST_DIRNAME/golden/expected/${expected%.ladder}.txt" "$BATS_TEST_TMPDIR/text"
		assert_success
		run diff "$BATS_TEST_DIRNAME/golden/expected/$expected" "$BATS_TEST_TMPDIR/ladder"
		assert_success
		drawn=$((drawn + 1))
	done <"$BATS_TEST_DIRNAME/golden/TESTLIST"
	assert [ "$drawn" -ge 20 ]
	# Like the pictures: refused before the run where it cannot be written, and with --summary.
	run "$SIGTRACE" -r "$FIXTURES/orderly.pcap" --ladder-file "$BATS_TEST_TMPDIR/no/such/dir/l"
	assert_failure
	assert_output --partial "cannot write $BATS_TEST_TMPDIR/no/such/dir/l"
	run "$SIGTRACE" -r "$FIXTURES/orderly.pcap" --summary --ladder-file "$BATS_TEST_TMPDIR/l"
	assert_failure 2
	assert_output --partial '--ladder-file needs each packet'
	assert_file_not_exists "$BATS_TEST_TMPDIR/l"
}

@test "offline: the text timeline carries the same notes as the JSON" {
	run "$SIGTRACE" -r "$FIXTURES/write-after-close.pcap"
	assert_success
	refute_output --partial '"type":'
	assert_output --partial 'writing to a peer that may be gone'
	assert_output --partial 'RSTO'
	assert_output --partial 'ShADadFR'
	# Each moment has its time; a connection's summary is no moment, and the
	# time column never runs backwards.
	assert_line --regexp '^ {10}  connection +127\.0\.0\.1:[0-9]+ → 127\.0\.0\.1:3333: RSTO ShADadFR'
	run sh -c "grep -o '^ *[0-9]\+\.[0-9]\{6\} ' | tr -d ' '" <<<"$output"
	assert_success
	assert_equal "$output" "$(sort -n <<<"$output")"
}

# waiting_on_pipe PID: PID sleeps in a read of an empty pipe or FIFO.
waiting_on_pipe() { [[ $(cat "/proc/$1/wchan" 2>/dev/null) == *pipe* ]]; }

@test "offline: SIGINT while reading a pipe gone quiet ends the run: what was read, summarised, exit 130" {
	mkfifo "$BATS_TEST_TMPDIR/pipe"
	# Part of a capture goes into the pipe, whose writer then stays, silent:
	# the reader waits in read(), and only the signal can end the wait.
	exec {writer}<>"$BATS_TEST_TMPDIR/pipe"
	head -c 700 "$FIXTURES/write-after-close.pcap" >&"$writer"
	spawn "$BATS_TEST_TMPDIR/out" env --default-signal=INT "$SIGTRACE" --json -r "$BATS_TEST_TMPDIR/pipe" {writer}>&- </dev/null
	reader=$BG_PID
	wait_for 10 waiting_on_pipe "$reader"
	kill -INT "$reader"
	wait_for 5 gone "$reader"
	status=0
	wait "$reader" || status=$?
	exec {writer}>&-
	assert_equal "$status" 130
	run jq -c 'select(.type == "packet" or .type == "connection") | .type' "$BATS_TEST_TMPDIR/out"
	assert_success
	assert_line '"packet"'
	assert_line '"connection"'
}

# on_terminal COLUMNS CMD...: CMD with its standard output a terminal (a pty
# from script(1)) whose width is COLUMNS; the output without carriage returns.
on_terminal() {
	local cols=$1
	shift
	COLUMNS=$cols script -qec "$(printf '%q ' "$@")" /dev/null </dev/null | tr -d '\r'
}

@test "offline: on an 80-column terminal each event fits, its note wrapped under it; into a file, one line an event" {
	local file=$BATS_TEST_TMPDIR/file.txt tty=$BATS_TEST_TMPDIR/tty.txt
	"$SIGTRACE" -r "$FIXTURES/write-after-close.pcap" >"$file"
	on_terminal 80 "$SIGTRACE" -r "$FIXTURES/write-after-close.pcap" >"$tty"
	# Into a file, the lines are as long as they are (374 columns and more).
	assert [ "$(LC_ALL=C.UTF-8 wc -L <"$file")" -gt 80 ]
	# On the terminal, none is wider than it.
	assert [ "$(LC_ALL=C.UTF-8 wc -L <"$tty")" -le 80 ]
	# The same events in the same order, each note under its event, and the
	# same words: only the line breaks differ.
	assert_equal "$(grep -cE '^ *[0-9]+\.[0-9]{6}  ' "$tty")" "$(grep -cE '^ *[0-9]+\.[0-9]{6}  ' "$file")"
	assert_equal "$(tr -s ' \n' '  ' <"$tty")" "$(tr -s ' \n' '  ' <"$file")"
	run grep -cE '^ {14}[^ ]' "$tty"
	assert [ "$output" -gt 0 ]
}

@test "offline: a terminal as wide as the lines gets them unwrapped" {
	local file=$BATS_TEST_TMPDIR/file.txt
	"$SIGTRACE" -r "$FIXTURES/write-after-close.pcap" >"$file"
	run on_terminal 1000 "$SIGTRACE" -r "$FIXTURES/write-after-close.pcap"
	assert_equal "$output" "$(cat "$file")"
}

# log_fields LOG: "LINE KEY VALUE" for each set field of each line of a conn.log,
# TSV (by the names its #fields line gives) or JSON (read with jq), numbers
# written one way, so that the two forms of one log compare line for line.
log_fields() {
	if [[ $(head -c 1 "$1") == '{' ]]; then
		jq -r --slurp 'to_entries[] as $l | $l.value | to_entries[] | "\($l.key)\t\(.key)\t\(.value)"' "$1"
	else
		awk -F'\t' '
			$1 == "#fields" { for (i = 2; i <= NF; i++) name[i - 1] = $i; next }
			/^#/ { next }
			{ for (i = 1; i <= NF; i++) if ($i != "-") print n + 0 "\t" name[i] "\t" $i; n++ }
		' "$1"
	fi | awk -F'\t' '{ v = $3; if (v ~ /^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) v = sprintf("%.6f", v); print $1, $2, v }' | sort
}

@test "offline: --zeek-log-format json writes conn.log as Zeek's JSON: the TSV's fields, read back with jq" {
	local tsv=$BATS_TEST_TMPDIR/conn.log json=$BATS_TEST_TMPDIR/conn.json fixture
	for fixture in orderly.pcap gap-both.pcap gap-past-hole.pcap write-after-close.pcap \
		expiry-idle.pcap refused.pcap encapsulations.pcap orderly-ipv6.pcapng; do
		"$SIGTRACE" -r "$FIXTURES/$fixture" --zeek-log "$tsv" >/dev/null
		run "$SIGTRACE" -r "$FIXTURES/$fixture" --zeek-log "$json" --zeek-log-format json
		assert_success
		# One object a line, no header, and jq reads every line.
		run jq -e -c 'select(.uid | startswith("C")) | .proto' "$json"
		assert_success
		assert_equal "${#lines[@]}" "$(grep -vc '^#' "$tsv")"
		assert_equal "$(log_fields "$json")" "$(log_fields "$tsv")"
		# ts, the ports and the counts are numbers; unset fields are left out.
		run jq -e 'all(.ts, ."id.orig_p", ."id.resp_p", .orig_pkts, .resp_ip_bytes; type == "number")
			and (has("service") or has("local_orig") or has("tunnel_parents") | not)' "$json"
		assert_success
	done
	(($(log_fields "$json" | wc -l) > 10)) || fail "too few fields: $(log_fields "$json")"
	run "$SIGTRACE" -r "$FIXTURES/orderly.pcap" --zeek-log-format json
	assert_failure 2
	assert_line 'sigtrace: --zeek-log-format says how to write --zeek-log FILE: give that too'
	run "$SIGTRACE" -r "$FIXTURES/orderly.pcap" --zeek-log "$json" --zeek-log-format xml
	assert_failure 2
	assert_line "sigtrace: bad conn.log format 'xml': give tsv or json"
}

# wire_ip_bytes FIXTURE: each source port's IP bytes as tshark reads them: the
# innermost IP header's length (IPv6: its payload length and 40), summed.
wire_ip_bytes() {
	tshark -r "$FIXTURES/$1" -Y tcp -T fields -E occurrence=l -e tcp.srcport -e ip.len -e ipv6.plen 2>/dev/null |
		awk -F'\t' '{ s[$1] += ($3 != "" ? $3 + 40 : $2) } END { for (p in s) print p, s[p] }' | sort
}

@test "offline: each side's IP bytes are tshark's sum of its IP lengths, through VLAN tags and tunnels" {
	local fixture
	for fixture in orderly.pcap orderly-ipv6.pcapng vlan.pcap qinq.pcap encapsulations.pcap write-after-close.pcap; do
		run "$SIGTRACE" -r "$FIXTURES/$fixture" --summary --json
		assert_success
		local ours
		ours=$(jq -r 'select(.type == "connection") |
			(.src | sub(".*:"; "")) + " " + (.orig_ip_bytes | tostring),
			(.dst | sub(".*:"; "")) + " " + (.resp_ip_bytes | tostring)' <<<"$output" |
			awk '{ s[$1] += $2 } END { for (p in s) print p, s[p] }' | sort)
		[[ -n $ours ]] || fail "$fixture: no connection"
		assert_equal "$ours" "$(wire_ip_bytes "$fixture")"
	done
}
