#!/usr/bin/env bats
# sigtrace --html and --svg, read by a real browser (headless Chromium): each
# lab's page has one arrow for each packet the same run's JSON has; lab 1's
# RST and SIGPIPE are on it; the arrow keys step through the events; a process
# named with markup stays text; an interrupted run leaves a whole page; the SVG
# alone is well-formed.
#
# What the browser saw is read from the DOM it dumps. A test that needs the
# page to do something (press a key) appends its own script to a copy of the
# page, which records what it saw in attributes of <body>.
#
# Each test runs in a subshell of its own, where run sets output and stderr:
# shellcheck disable=SC2030,SC2031,SC2154

bats_require_minimum_version 1.5.0

setup() {
	load 'test_helper/common'
	load 'test_helper/trace'
	FIXTURES=$BATS_TEST_DIRNAME/fixtures
	if ! command -v chromium >/dev/null; then
		[[ -z ${CI:-} ]] || fail "chromium is missing: scripts/install-deps test installs it"
		skip "chromium is not installed (scripts/install-deps test installs it)"
	fi
}

teardown() { teardown_processes; }

# browse FILE [SCRIPT]: what headless Chromium makes of FILE (a copy of it, with
# SCRIPT appended to its body when given): the DOM, serialised, on stdout.
browse() {
	local page=$1 copy=$BATS_TEST_TMPDIR/page-$RANDOM.${1##*.}
	if (($# > 1)); then
		SCRIPT=$2 awk '{ i = index($0, "</body>")
			if (i) $0 = substr($0, 1, i - 1) "<script>" ENVIRON["SCRIPT"] "</script>" substr($0, i)
			print }' "$page" >"$copy"
	else
		cp "$page" "$copy"
	fi
	# A profile of its own: test files run side by side.
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$BATS_TEST_TMPDIR/profile" --virtual-time-budget=2000 \
		--dump-dom "file://$copy" 2>/dev/null
}

# What the browser counts, written into <body>: the packet arrows, the lifelines' names.
readonly COUNT_SCRIPT="var b = document.body;
b.setAttribute('data-arrows', document.querySelectorAll('#diagram g.ev.pkt').length);
b.setAttribute('data-lanes', [].map.call(document.querySelectorAll('#diagram .head text'),
  function (t) { return t.textContent; }).join('|'));"

# attr NAME <DOM: the value of body's attribute NAME.
attr() { sed -n "s/.*<body[^>]* $1=\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }

# The labs whose pages are only counted: one browser counts them all (lab_arrows).
readonly COUNTED_LABS="2-send-removed 4-handler 5-unread-close 6-client-side 7-inherited-ign 8-neighbours"

# lab_arrows NAME: sets ARROWS to the packet arrows headless Chromium counts on
# the page of NAME's traced run, NAME one of COUNTED_LABS, and the variables of
# `traced NAME`. A browser takes seconds of CPU
# to start: one reads every such page, once for the file, as frames of a page
# that counts inside them when they have loaded (--allow-file-access-from-files
# lets a file's page read its frames; each frame runs its page's own scripts).
lab_arrows() {
	local counts=$BATS_FILE_TMPDIR/arrows harness=$BATS_FILE_TMPDIR/harness.html name
	if [[ ! -s $counts ]]; then
		{
			echo '<!DOCTYPE html><html><body>'
			for name in $COUNTED_LABS; do
				traced "$name"
				# shellcheck disable=SC2153 # PAGE is traced's (test_helper/trace)
				echo "<iframe name=\"$name\" src=\"file://$PAGE\"></iframe>"
			done
			echo "<script>window.addEventListener('load', function () {
  document.body.setAttribute('data-counts', [].map.call(document.querySelectorAll('iframe'), function (f) {
    return f.name + '=' + f.contentDocument.querySelectorAll('#diagram g.ev.pkt').length;
  }).join(' '));
});</script></body></html>"
		} >"$harness"
		timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
			--user-data-dir="$BATS_FILE_TMPDIR/profile" --virtual-time-budget=5000 \
			--allow-file-access-from-files --dump-dom "file://$harness" 2>/dev/null |
			attr data-counts | tr ' =' '\n ' >"$counts"
	fi
	traced "$1"
	ARROWS=$(awk -v name="$1" '$1 == name { print $2 }' "$counts")
}

# same_packets NAME: the page of NAME's traced run has an arrow for each packet
# of its JSON. Sets DOM (what the browser made of the page), unless NAME is one
# of COUNTED_LABS.
same_packets() {
	local packets arrows
	if [[ " $COUNTED_LABS " == *" $1 "* ]]; then
		lab_arrows "$1"
		arrows=$ARROWS
	else
		traced "$1"
		DOM=$(browse "$PAGE" "$COUNT_SCRIPT")
		arrows=$(attr data-arrows <<<"$DOM")
	fi
	assert_equal "$TRACE_STATUS" 0
	packets=$(count '.type == "packet"')
	echo "$1: $arrows arrows, $packets packets in the JSON" >&3
	assert [ "$packets" -gt 0 ]
	assert_equal "$arrows" "$packets"
}

@test "html lab 1: an arrow for each packet; the RST, the failed send, SIGPIPE and the death are on the page" {
	same_packets 1-naive
	dom=$DOM
	# The client's RST, coloured apart; the server's send that failed; its SIGPIPE; its death.
	[[ $dom =~ \<g\ class=\"ev\ pkt\ rst\"[^\>]*\>\<title\>[0-9.]+\ \ client→server:\ RST ]]
	failed=$(grep -o '<g class="ev call failed"[^>]*><title>[^<]*' <<<"$dom")
	[[ $failed == *'  server: send('*', "done\n", 5) = -1 EPIPE'* ]]
	[[ $dom =~ \<g\ class=\"ev\ sig\ sigpipe\"[^\>]*\>\<title\>[0-9.]+\ \ server:\ SIGPIPE\ \(default:\ terminate\) ]]
	[[ $dom =~ \<g\ class=\"ev\ exit\ killed\"[^\>]*\>\<title\>[0-9.]+\ \ server:\ killed\ by\ SIGPIPE ]]
	[[ $dom == *'<g class="ev verdict"'*'verdict: lab=1-naive server=killed-by-SIGPIPE client2=refused'* ]]
	# Clients left, the server right.
	assert_equal "$(attr data-lanes <<<"$dom")" "scenario|client|client 2|server"
	# A picture to look at.
	mkdir -p "$BUILD/html"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$BATS_TEST_TMPDIR/profile" --window-size=1600,2000 \
		--screenshot="$BUILD/html/lab-1.png" "file://$PAGE" 2>/dev/null
	[[ $(head -c 8 "$BUILD/html/lab-1.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]
}

@test "html lab 2: an arrow for each packet" { same_packets 2-send-removed; }
@test "html lab 3: an arrow for each packet; the server's loop collapsed, as on the text timeline" {
	same_packets 3-sig-ign
	# Hundreds of failed sends, drawn as a few boxes and repeat markers that give the count.
	sends=$(total '.proc == "server" and .type == "syscall" and .errno == "EPIPE"')
	drawn=$(grep -o '<g class="ev call failed"[^>]*><title>[0-9.]*  server: send' <<<"$DOM" | wc -l)
	echo "3-sig-ign: $sends failed sends, $drawn drawn" >&3
	assert [ "$sends" -ge 500 ]
	assert [ "$drawn" -ge 1 ]
	assert [ $((drawn * 10)) -lt "$sends" ]
	repeats=$(grep -o '<g class="ev repeat"[^>]*><title>[0-9.]*  server: ↻ repeated [0-9]* more times' <<<"$DOM" | wc -l)
	assert [ "$repeats" -ge 1 ]
}
@test "html lab 4: an arrow for each packet" { same_packets 4-handler; }
@test "html lab 5: an arrow for each packet" { same_packets 5-unread-close; }
@test "html lab 6: an arrow for each packet" { same_packets 6-client-side; }
@test "html lab 7: an arrow for each packet" { same_packets 7-inherited-ign; }
@test "html lab 8: an arrow for each packet" { same_packets 8-neighbours; }

@test "html: the arrow keys step through the events one at a time, the panel showing each one's note" {
	"$SIGTRACE" -r "$FIXTURES/write-after-close.pcap" --html "$BATS_TEST_TMPDIR/p.html" >/dev/null
	# Down three times, up once: the second event.
	dom=$(browse "$BATS_TEST_TMPDIR/p.html" "['ArrowDown', 'ArrowDown', 'ArrowDown', 'ArrowUp'].forEach(function (k) {
  document.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true}));
});
document.body.setAttribute('data-lit', [].map.call(document.querySelectorAll('.hl'), function (g) { return g.id; }).join(' '));
document.body.setAttribute('data-panel', document.getElementById('panel').textContent.split('\n')[0]);")
	assert_equal "$(attr data-current <<<"$dom")" e1
	assert_equal "$(attr data-lit <<<"$dom")" e1
	# The second packet of the capture: the SYN-ACK.
	[[ $(attr data-panel <<<"$dom") =~ ^[0-9.]+\ \ server→client:\ SYN,ACK\ seq\ 0\ ack\ 1$ ]]
	# Nothing pressed: nothing lit.
	assert_equal "$(browse "$BATS_TEST_TMPDIR/p.html" "document.body.setAttribute('data-lit', document.querySelectorAll('.hl').length);" | attr data-lit)" 0
}

@test "html: a process named with markup and control bytes is text on the page, not markup" {
	# The kernel names a process after its program's file: the lab 1 client, under a hostile name.
	name=$'<b>\e[31m&x'
	ln -s "$BUILD/labs/1-naive/client" "$BATS_TEST_TMPDIR/$name"
	run timeout "$RUN_LIMIT" "$SIGTRACE" --netns --html "$BATS_TEST_TMPDIR/p.html" --svg "$BATS_TEST_TMPDIR/p.svg" \
		-- "$BATS_TEST_TMPDIR/$name" 3333 <<<hello
	assert_equal "$status" 141 # connection refused, then SIGPIPE on the send
	# No raw escape byte in either file (grep: 1, nothing found).
	run grep -l $'\e' "$BATS_TEST_TMPDIR/p.html" "$BATS_TEST_TMPDIR/p.svg"
	assert_failure 1
	dom=$(browse "$BATS_TEST_TMPDIR/p.html" "$COUNT_SCRIPT
document.body.setAttribute('data-bold', document.querySelectorAll('b').length);")
	assert_equal "$(attr data-bold <<<"$dom")" 0
	# The lifeline's name, as the browser reads it: the characters, the escape byte shown as \x1b.
	assert_equal "$(attr data-lanes <<<"$dom")" '&lt;b&gt;\x1b[31m&amp;x|server'
	[[ $(browse "$BATS_TEST_TMPDIR/p.svg") != *"error on line"* ]]
}

@test "html: a run interrupted by SIGINT still leaves a whole page, and no temporary file" {
	dir=$BATS_TEST_TMPDIR/run
	mkdir -p "$dir"
	TRACE=$dir/trace.jsonl
	spawn "$dir/out" env --default-signal=INT "$SIGTRACE" --netns -o "$TRACE" --html "$dir/page.html" \
		-- "$ROOT/labs/scenario" --pause 20 2-send-removed </dev/null
	tracer=$BG_PID
	spinning() { grep -q '"proc":"server","call":"recv".*"ret":0' "$TRACE" 2>/dev/null; }
	# Under load (test files side by side on two cores) the scenario takes a while to get there.
	wait_for 60 spinning
	kill -INT "$tracer"
	status=0
	wait "$tracer" || status=$?
	assert_equal "$status" 130
	assert_equal "$(find "$dir" -name 'page.html.*' | wc -l)" 0
	[[ $(tail -n 1 "$dir/page.html") == "</html>" ]]
	assert_equal "$(browse "$dir/page.html" "$COUNT_SCRIPT" | attr data-arrows)" "$(count '.type == "packet"')"
}

@test "svg: the diagram alone is well-formed SVG, with an arrow for each packet of the same run's JSON" {
	for capture in write-after-close.pcap refused.pcap orderly-ipv6.pcapng; do
		"$SIGTRACE" -r "$FIXTURES/$capture" --json --svg "$BATS_TEST_TMPDIR/d.svg" >"$BATS_TEST_TMPDIR/d.jsonl"
		dom=$(browse "$BATS_TEST_TMPDIR/d.svg")
		# Chromium reads an .svg as XML, and says so in the page when it is not well-formed.
		[[ $dom == *'<svg xmlns="http://www.w3.org/2000/svg" id="diagram"'* && $dom != *"error on line"* ]]
		packets=$(count '.type == "packet"' "$BATS_TEST_TMPDIR/d.jsonl")
		assert [ "$packets" -gt 0 ]
		assert_equal "$(grep -o '<g class="ev pkt' <<<"$dom" | wc -l)" "$packets"
	done
}

@test "html: a picture that cannot be written is refused before the run, naming the file and the way out" {
	run "$SIGTRACE" --html /nonexistent/dir/p.html -r "$FIXTURES/orderly.pcap"
	assert_failure 1
	assert_output --partial "cannot write /nonexistent/dir/p.html"
	assert_output --partial "check the directory exists and is writable"
	# Live, before the command runs: it is not left behind, stopped or running.
	run "$SIGTRACE" --netns --html /nonexistent/dir/p.html -- sleep 60
	assert_failure 1
	assert_output --partial "cannot write /nonexistent/dir/p.html"
	nothing_left() { [[ -z $(run_processes) ]]; }
	wait_for 5 nothing_left
	run "$SIGTRACE" --html "$BATS_TEST_TMPDIR/same" -o "$BATS_TEST_TMPDIR/same" -r "$FIXTURES/orderly.pcap"
	assert_failure 2
	assert_output --partial "-o and --html both name"
	run "$SIGTRACE" --svg "$FIXTURES/orderly.pcap" -r "$FIXTURES/orderly.pcap"
	assert_failure 2
	assert_output --partial "--svg $FIXTURES/orderly.pcap is the capture -r reads"
}
