#!/usr/bin/env bats
# The documents: the manual page renders cleanly and matches the tracer's real
# options, make install and uninstall do what they say, and what the worksheets
# and the theory tell a student to type or open exists.

bats_require_minimum_version 1.5.0
load 'test_helper/common'

# The teaching text whose commands and paths are checked.
DOCS=(labs/1-naive/README.md labs/2-send-removed/README.md labs/3-sig-ign/README.md
	labs/4-handler/README.md labs/8-neighbours/README.md docs/theory.md docs/answers.md solution/README.md)


# The options a usage text names: -x and --long words, one a line, sorted.
options_in() { grep -oE '(^|[[:space:],])--?[a-zA-Z][a-zA-Z-]*' | tr -d ' ,\t' | sort -u; }

# The manual page as plain text, wide enough that nothing is hyphenated.
man_text() { groff -man -Tascii -P-cbou -rLL=200n "$ROOT/docs/sigtrace.1"; }

# The lines of FILE inside ``` fences.
code_lines() { awk '/^ *```/ { inside = !inside; next } inside { sub(/^ +/, ""); print }' "$1"; }

# The `inline code` spans of FILE, one a line (fenced blocks left out; a span may
# run over a line break, as Markdown allows).
# shellcheck disable=SC2016 # the backticks are Markdown's, not the shell's
inline_spans() { awk '/^ *```/ { inside = !inside; next } !inside' "$1" | tr '\n' ' ' | grep -oE '`[^`]+`' | tr -d '`'; }

# Does WORD look like a path in this repository?
repo_path() { [[ $1 =~ ^(labs|solution|capture|docs|tests|scripts|mk|build)/[A-Za-z0-9_.*/-]+$ || $1 == Makefile ]]; }

# Does PATH exist (a glob must match something)? Captures that a make target
# leaves in build/traces/ count when that target is real.
path_exists() {
	local path=${1%/} target
	if [[ $path =~ ^build/traces/(lab-[0-9]+|solution)\.(pcapng|jsonl|html)$ ]]; then
		target=${BASH_REMATCH[1]}
		make -C "$ROOT" -n "$target" 2>/dev/null | grep -qv 'there is no'
		return
	fi
	compgen -G "$ROOT/$path" >/dev/null
}

# Is `make ARGS...` a real target (and variables)? The Makefile answers a
# lab-N that does not exist with a recipe that says so; -n shows it.
make_real() {
	local out
	out=$(make -C "$ROOT" -n "$@" 2>&1) || { echo "$out"; return 1; }
	! grep -q 'there is no' <<<"$out"
}

@test "docs: the manual page renders without a warning, with man and with groff" {
	run --separate-stderr man --warnings -l "$ROOT/docs/sigtrace.1"
	assert_success
	# shellcheck disable=SC2154 # run --separate-stderr sets $stderr
	assert_equal "$stderr" ""
	assert_output --partial "SIGTRACE(1)"
	run groff -man -ww -z "$ROOT/docs/sigtrace.1"
	assert_success
	assert_output ""
}

@test "docs: the manual page has the sections a manual page needs" {
	local section
	for section in NAME SYNOPSIS DESCRIPTION OPTIONS OUTPUT 'EXIT STATUS' ENVIRONMENT EXAMPLES 'SEE ALSO'; do
		man_text | grep -qx "$section" || fail "no section $section in docs/sigtrace.1"
	done
}

@test "docs: the manual page's OPTIONS are exactly the options sigtrace --help lists" {
	run "$BUILD/sigtrace" --help
	assert_output --partial "usage: sigtrace"
	help_opts=$(options_in <<<"$output")
	# the short and long options we know are there, so an empty list cannot pass
	grep -qx -- -w <<<"$help_opts"
	grep -qx -- --netns <<<"$help_opts"
	man_opts=$(man_text | awk '/^OPTIONS$/ { f = 1; next } /^[A-Z]/ { f = 0 } f' | grep -E '^ {7}-' | options_in)
	assert_equal "$man_opts" "$help_opts"
}

@test "docs: the manual page documents every JSON event type the tracer writes" {
	local type types
	# the types json.c writes: jbegin(j, "TYPE", ...)
	types=$(grep -oE 'jbegin\(&?j, "[a-z_]+"' "$ROOT/capture/json.c" | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
	(($(wc -l <<<"$types") >= 8)) || fail "found only these event types in capture/json.c: $types"
	for type in $types; do
		man_text | grep -qE "^ {7}$type( |\$)" || fail "docs/sigtrace.1 does not document the event type $type"
	done
}

@test "docs: make install puts the tracer and its manual page under DESTDIR and PREFIX" {
	dest=$BATS_TEST_TMPDIR/root
	run make -C "$ROOT" --no-print-directory install DESTDIR="$dest" PREFIX=/usr
	assert_success
	assert_file_executable "$dest/usr/bin/sigtrace"
	assert_equal "$(stat -c %a "$dest/usr/bin/sigtrace")" 755
	assert_equal "$(stat -c %a "$dest/usr/share/man/man1/sigtrace.1")" 644
	cmp "$ROOT/docs/sigtrace.1" "$dest/usr/share/man/man1/sigtrace.1"
	# nothing else was installed
	assert_equal "$(find "$dest" -type f | sort)" "$dest/usr/bin/sigtrace
$dest/usr/share/man/man1/sigtrace.1"

	# the installed program is the built one: the same help, the same status
	run "$BUILD/sigtrace" --help
	built_status=$status built_output=$output
	run "$dest/usr/bin/sigtrace" --help
	assert_equal "$status" "$built_status"
	assert_equal "$output" "$built_output"
	assert_output --partial "usage: sigtrace"
	run man --warnings -l "$dest/usr/share/man/man1/sigtrace.1"
	assert_success
}

@test "docs: make uninstall removes what make install installed" {
	dest=$BATS_TEST_TMPDIR/root
	make -C "$ROOT" --no-print-directory -s install DESTDIR="$dest" PREFIX=/opt/kit
	assert_file_exists "$dest/opt/kit/bin/sigtrace"
	assert_file_exists "$dest/opt/kit/share/man/man1/sigtrace.1"
	run make -C "$ROOT" --no-print-directory uninstall DESTDIR="$dest" PREFIX=/opt/kit
	assert_success
	assert_file_not_exists "$dest/opt/kit/bin/sigtrace"
	assert_file_not_exists "$dest/opt/kit/share/man/man1/sigtrace.1"
	assert_equal "$(find "$dest" -type f)" ""
}

@test "docs: every make command in the worksheets' code blocks names a real target" {
	local doc line count=0
	for doc in "${DOCS[@]}"; do
		assert_file_exists "$ROOT/$doc"
		while IFS= read -r line; do
			line=${line%%#*}
			[[ $line =~ ^make[[:space:]] ]] || continue
			read -ra words <<<"$line"
			make_real "${words[@]:1}" || fail "$doc: '$line' is not a real make target"
			count=$((count + 1))
		done < <(code_lines "$ROOT/$doc"; inline_spans "$ROOT/$doc")
	done
	# every worksheet tells the student to run its lab
	((count >= 4))
	# and the check itself tells a wrong target from a right one
	run make_real lab-99
	assert_failure
	run make_real no-such-target
	assert_failure
}

@test "docs: make lab- without a number, or with one that is no lab, says so and lists the labs" {
	run make -C "$ROOT" --no-print-directory lab-
	assert_failure 2
	assert_output --partial "make: lab- needs a lab number, e.g. make lab-1 (the labs are: 1 2 3 "
	refute_output --partial "lab .o"
	run make -C "$ROOT" --no-print-directory lab-99
	assert_failure 2
	assert_output --partial "make: there is no lab 99 (the labs are: 1 2 3 "
}

@test "docs: every repository path the docs mention exists" {
	local doc span word count=0 missing=()
	for doc in "${DOCS[@]}"; do
		while IFS= read -r span; do
			read -ra words <<<"$span"
			for word in "${words[@]}"; do
				word=${word%[.,;:)]}
				repo_path "$word" || continue
				count=$((count + 1))
				path_exists "$word" || missing+=("$doc: $word")
			done
		done < <(inline_spans "$ROOT/$doc"; code_lines "$ROOT/$doc")
	done
	for word in $(man_text | grep -oE '(^|[[:space:]])(build/)?(docs|labs)/[A-Za-z0-9_.*/-]+' | sed 's/[.,;:)]$//'); do
		count=$((count + 1))
		path_exists "$word" || missing+=("docs/sigtrace.1: $word")
	done
	((${#missing[@]} == 0)) || fail "missing: ${missing[*]}"
	((count >= 20))
	run path_exists labs/no-such-lab/server.c
	assert_failure
}

@test "docs: each worksheet of labs 1-4 has Goal, Predict, Run, Observe, Explain, Exercises, and its answers" {
	local lab n heading
	for lab in 1-naive 2-send-removed 3-sig-ign 4-handler; do
		n=${lab%%-*}
		for heading in Goal Predict Run Observe Explain Exercises; do
			grep -qE "^## $heading" "$ROOT/labs/$lab/README.md" || fail "labs/$lab/README.md has no '## $heading'"
		done
		grep -qE "^## Lab $n\b" "$ROOT/docs/answers.md" || fail "docs/answers.md has no '## Lab $n'"
	done
}

@test "docs: every test the docs cite by name is a test in the suite" {
	local doc name count=0 missing=()
	for doc in "${DOCS[@]}"; do
		while IFS= read -r name; do
			[[ $name =~ ^(solution|lab\ [0-9]+):\  ]] || continue
			count=$((count + 1))
			grep -rqF -- "@test \"$name\"" "$ROOT/tests/" || missing+=("$doc: $name")
		done < <(inline_spans "$ROOT/$doc" | tr -s ' ')
	done
	((${#missing[@]} == 0)) || fail "no such test: ${missing[*]}"
	((count >= 10))
}

@test "docs: the worksheets find the server as the student's own, by exact name (pgrep -u \"\$(id -u)\" -x)" {
	local bad
	# The user by number, from id: $USER is unset in many shells (root's, a
	# container's, CI's), and pgrep -u "" fails.
	# shellcheck disable=SC2016 # $(id -u) is the worksheets' text, not ours
	bad=$(grep -n -e 'pgrep' -e 'pkill' "$ROOT"/labs/*/README.md "$ROOT/docs/instructor.md" |
		grep -v -e '-u "$(id -u)" -x server' -e 'pgrep -n server` could pick' || true)
	assert_equal "$bad" ""
	# and the command works where $USER is unset
	# shellcheck disable=SC2016 # expanded by the inner bash, with USER unset
	run env -u USER bash -c 'pgrep -u "$(id -u)" -x bash'
	assert_success
}

@test "docs: glibc's signal() is System V under gcc -std=c11 and BSD under make's flags, as answers.md says" {
	local dir=$BATS_TEST_TMPDIR
	printf '#include <signal.h>\nstatic void on_pipe(int sig) { (void)sig; }\nint main(void) { signal(SIGPIPE, on_pipe); return 0; }\n' >"$dir/sig.c"
	cc -std=c11 -o "$dir/c11" "$dir/sig.c"
	cc -std=c11 -D_DEFAULT_SOURCE -o "$dir/default" "$dir/sig.c"
	run strace -e trace=rt_sigaction -e signal=none "$dir/c11"
	assert_output --regexp 'rt_sigaction\(SIGPIPE, \{sa_handler=0x[0-9a-f]+, .*SA_RESETHAND'
	refute_output --partial 'SA_RESTART'
	run strace -e trace=rt_sigaction -e signal=none "$dir/default"
	assert_output --regexp 'rt_sigaction\(SIGPIPE, \{sa_handler=0x[0-9a-f]+, .*SA_RESTART'
	refute_output --partial 'SA_RESETHAND'
	# What the answers say, and the flag the Makefile adds.
	grep -qF 'SA_RESETHAND' "$ROOT/docs/answers.md"
	grep -qE '^CPPFLAGS \+= -D_DEFAULT_SOURCE' "$ROOT/Makefile"
}

@test "docs: theory.md's section on the original analysis announces as many wrong claims as it gives" {
	local section words=(zero one two three four five six seven eight nine) count
	section=$(awk '/^## 7\./ { on = 1; next } /^## / { on = 0 } on' "$ROOT/docs/theory.md")
	count=$(grep -c '^### "' <<<"$section")
	assert [ "$count" -ge 1 ]
	grep -qF "${words[count]} of its claims are not what happens" <<<"$section" ||
		fail "section 7 gives $count claims but does not say '${words[count]} of its claims'"
}

@test "docs: instructor.md's table of grading scenarios is the probe's list, and its time table names every lab" {
	local probe table
	probe=$("$BUILD/grade/probe" --list | sort)
	# shellcheck disable=SC2016 # the backticks are Markdown's
	table=$(sed -n '/^### What the grader checks/,/^### /{s/^| `\([a-z0-9-]*\)` |.*/\1/p}' "$ROOT/docs/instructor.md" | sort)
	assert [ -n "$probe" ]
	assert_equal "$table" "$probe"
	local lab n
	for lab in "$ROOT"/labs/[0-9]*/; do
		n=${lab%/}
		n=${n##*/}
		n=${n%%-*}
		grep -qE "^\| $n [A-Za-z]" "$ROOT/docs/instructor.md" || fail "docs/instructor.md has no time row for lab $n"
	done
}
