# Helpers for tests/sigtrace.bats: running the scenario under the tracer,
# and asking its JSON Lines what happened. Load after test_helper/common.
#
#   SIGTRACE                  the tracer under test (default build/sigtrace;
#                             SIGTRACE=build/asan/sigtrace runs the sanitized one)
#   traced NAME               run the scenario for NAME under the tracer in a
#                             private network namespace, once for the whole
#                             suite (the files that ask for it share the run);
#                             sets TRACE (its JSON Lines), TRACE_OUT (its text),
#                             PAGE (its --html page) and TRACE_STATUS
#   untraced NAME             the scenario alone, on a free port; sets $output
#   verdict_of FILE           the scenario's verdict line in FILE
#   events FILTER [FILE]      the events of FILE ($TRACE) for which the jq
#                             expression FILTER is true, one a line
#   count FILTER [FILE]       how many events match FILTER
#   total FILTER [FILE]       how many times they happened: the sum of their repeat counts
#   in_order FILTER...        each FILTER matches an event of $TRACE after the
#                             one the previous FILTER matched; says which not

SIGTRACE=${SIGTRACE:-$BUILD/sigtrace}
# Bounds every run: a scenario takes about 6 s, traced or not.
RUN_LIMIT=60

traced() {
	# One run of each scenario for the suite, whichever file asks first; a
	# file that asks while it runs waits for it. The tracer's path is part of
	# the name: a suite run with another SIGTRACE has runs of its own.
	local name=$1 dir
	dir=$BATS_RUN_TMPDIR/traced-$1-$(cksum <<<"$SIGTRACE" | cut -d ' ' -f 1)
	TRACE=$dir/trace.jsonl
	TRACE_OUT=$dir/trace.out
	PAGE=$dir/trace.html
	mkdir -p "$dir"
	(
		flock 9
		if [[ ! -e $dir/status ]]; then
			local rc=0
			timeout "$RUN_LIMIT" "$SIGTRACE" --netns -o "$TRACE" --html "$PAGE" -- "$ROOT/labs/scenario" "$name" \
				>"$TRACE_OUT" 2>&1 </dev/null 3>&- || rc=$?
			echo "$rc" >"$dir/status"
		fi
	) 9>"$dir/lock"
	# shellcheck disable=SC2034 # for the tests
	TRACE_STATUS=$(<"$dir/status")
}

untraced() {
	run timeout "$RUN_LIMIT" "$ROOT/labs/scenario" --port "$(free_port)" "$1" </dev/null
}

verdict_of() { grep '^verdict: ' "$1"; }

events() { jq -c "select($1)" "${2:-$TRACE}"; }

count() { jq -c "select($1)" "${2:-$TRACE}" | wc -l; }

total() { jq -s "map(select($1) | .repeat) | add // 0" "${2:-$TRACE}"; }

in_order() {
	local filter at=-1 next
	for filter in "$@"; do
		next=$(jq -s "[to_entries[] | select(.key > $at and (.value | $filter)) | .key] | first // -1" "$TRACE")
		if ((next < 0)); then
			echo "in_order: no event matching '$filter' after event $at of $TRACE" >&2
			return 1
		fi
		at=$next
	done
}

# whole_calls FILE: FILE's events with each call split around what happened
# meanwhile ("part": "unfinished", then "resumed") made one again, as strace
# -f shows a call when nothing interrupts it: its text whole, its result and
# note; placed where it began (where a call that sends made its packets), or,
# for a call that takes what came in (recv, accept, read), where it returned.
whole_calls() {
	jq -sc '
		def key: "\(.pid) \(.call)";
		reduce .[] as $e ({open: {}, out: []};
			if $e.type == "syscall" and $e.part == "unfinished" then
				.open[$e | key] = (.out | length) | .out += [$e]
			elif $e.type == "syscall" and $e.part == "resumed" and .open[$e | key] != null then
				.open[$e | key] as $at
				| ($e + {part: "whole", text: ((.out[$at].text | sub(" \\.\\.\\.$"; ""))
					+ ($e.text | sub("^\\.\\.\\. [a-z0-9_]+ resumed"; "")))}) as $whole
				| if ($e.call | test("^(recv|accept|read)")) then .out[$at] = null | .out += [$whole]
				  else .out[$at] = $whole end
				| del(.open[$e | key])
			else .out += [$e] end)
		| .out[] | select(. != null)' "$1"
}
