# Loaded by every test file: `load 'test_helper/common'`.
#
# What it gives:
#   ROOT, BUILD              the checkout and its build/ directory
#   free_port                a TCP port below 32768 that nothing uses
#   wait_for SECONDS CMD...  poll CMD every 10 ms until it succeeds; fail after SECONDS
#   listening PORT           something listens on PORT (from /proc/net/tcp{,6})
#   alive PID / gone PID     the process exists and has not ended (a zombie is gone) / it has
#   spawn OUTFILE CMD...     start CMD in the background (fd 3 closed, SIGPIPE at its
#                            default, stdin the caller's), output to OUTFILE; its pid is in $BG_PID, and
#                            teardown_processes kills it if it is still running
#   serve PORT CMD...        start the server CMD... PORT in the background (pid in
#                            $SERVER_PID, output in $BATS_TEST_TMPDIR/server.out) and
#                            wait until it listens on PORT; if another process took
#                            PORT first, on another free port: $PORT is the one used
#   client_run PORT CMD LINE...  run the client CMD PORT to the end, each LINE on its
#                            standard input, bounded to 5 s; sets $status and $output
#   fd_count PID             how many file descriptors PID holds (fd_count_is PID N)
#   cpu_ticks PID            user + system CPU time of PID, in clock ticks
#   teardown_processes       kill what spawn started, and anything else marked that it left
#                            behind; call it from teardown
#   run_processes            pids and command lines of live processes this file's tests started
#   suite_processes          the same for every file of the run

# bats-support, bats-assert and bats-file (test_helper/libraries says how).
# shellcheck source=tests/test_helper/libraries.bash
source "${BASH_SOURCE[0]%/*}/libraries.bash"
load_libraries

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BUILD=$ROOT/build
export ROOT BUILD
export NO_COLOR=1
# Every process a test starts inherits this mark: its test's (its file's, in
# setup_file), so that a test's teardown cleans up after itself alone while
# other tests run beside it (other files, or the same file's under bats
# --jobs without --no-parallelize-within-files), and under the run's
# directory, so that setup_suite.bash can prove that none of them outlived
# the suite.
export SIGPIPE_LAB_RUN=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}

BG_PIDS=()

free_port() {
	local port hex try
	for ((try = 0; try < 500; try++)); do
		port=$((10000 + RANDOM % 22000))
		printf -v hex '%04X' "$port"
		if ! awk -v hex="$hex" 'FNR > 1 { split($2, a, ":"); if (a[2] == hex) found = 1 } END { exit !found }' \
			/proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo "free_port: no free port found" >&2
	return 1
}

# (The clock is bash's own, $EPOCHREALTIME in microseconds: no process per poll.)
wait_for() {
	local deadline=$((${EPOCHREALTIME//[!0-9]/} + $1 * 1000000))
	shift
	until "$@"; do
		if ((${EPOCHREALTIME//[!0-9]/} >= deadline)); then
			echo "wait_for: timed out waiting for: $*" >&2
			return 1
		fi
		nap
	done
}

# nap: ten milliseconds, without starting a program (here each costs tens of
# milliseconds of CPU, and wait_for polls a hundred times a second): a timed
# read on a FIFO nobody writes to, opened for the read alone, so that no
# process a test starts inherits it.
nap() {
	local fifo=${BATS_FILE_TMPDIR:-${BATS_RUN_TMPDIR:-}}/nap
	if [[ $fifo == /nap ]]; then
		sleep 0.01
		return 0
	fi
	[[ -p $fifo ]] || mkfifo "$fifo" 2>/dev/null || [[ -p $fifo ]] || {
		sleep 0.01
		return 0
	}
	read -r -t 0.01 _ <>"$fifo" || true
}

listening() { listener_inode "$1" >/dev/null; }

# listener_inode PORT: the inode of the socket listening on PORT; fails if none.
listener_inode() {
	local hex
	printf -v hex '%04X' "$1"
	awk -v hex="$hex" 'FNR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == hex) { print $10; found = 1; exit } } END { exit !found }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# helper_functions [NAME...]: the definitions of wait_for and what it
# calls (nap, listening, alive, gone and theirs), and of each NAME, as source for a
# script run by another shell: `bash -c "$(helper_functions f); f"`.
helper_functions() { declare -f wait_for nap listening listener_inode alive stat_of gone "$@"; }

# alive PID: the process exists and has not ended. One that ended but that
# its parent has not yet waited for (a zombie) is not alive: kill -0 still
# succeeds on it, and bash reaps its children only when it waits for one,
# which a poll of bash builtins (wait_for on gone, nap) never does.
alive() { stat_of "$1" && [[ $STATE_OF != Z ]]; }

# stat_of PID: sets STATE_OF (R, S, Z ...) and PPID_OF_STAT from PID's
# /proc stat (fields 3 and 4); fails when PID is gone. (Variables, not
# output: no subshell, no fork.)
stat_of() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086 # split the fields on purpose
	set -- $stat
	STATE_OF=$1 PPID_OF_STAT=$2
}
# gone PID: not alive. A zombie that is this shell's child is reaped first:
# a fork makes bash wait, and bash then collects every child that ended and
# keeps its status, so that `wait PID`, even in a command substitution run
# afterwards, still reports it.
gone() {
	! alive "$1" || return 1
	[[ ! -e /proc/$1 ]] || (:)
}

spawn() {
	local out=$1
	shift
	# The job opens $out when it gets to run, which can be after the caller
	# looks at it: made here first, it is there (and empty) from the start.
	: >"$out"
	# <&0: a background job would otherwise read /dev/null, not the caller's input.
	env --default-signal=PIPE "$@" <&0 >"$out" 2>&1 3>&- &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# Every test that runs a server and its clients starts them here: the server's
# port is its last argument, for the labs, the solution and the launchers alike.
#
# free_port's answer is true when it is given, not when the server binds:
# another test (of this run, or of another run on the machine) may take the
# port in between, and then the listener found is not ours (a lab server that
# never checks bind() goes on, listening on a port the kernel chose). So the
# listener must be held by the server or one of its descendants (a wrapper
# such as strace starts it as a child); if it is not, the server is ended and
# started again on another free port, and $PORT says which.
serve() {
	local port=$1 try
	shift
	for try in 1 2 3; do
		spawn "$BATS_TEST_TMPDIR/server.out" "$@" "$port" </dev/null
		# shellcheck disable=SC2034 # for the test that called
		SERVER_PID=$BG_PID
		wait_for 5 listening "$port"
		if serving "$SERVER_PID" "$port"; then
			# shellcheck disable=SC2034 # for the test that called
			PORT=$port
			return 0
		fi
		echo "serve: port $port was taken by another process before the server bound it (try $try); moving to another" >&2
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		port=$(free_port)
	done
	echo "serve: every port tried was taken by another process" >&2
	return 1
}

# serving PID PORT: the socket listening on PORT is held by PID or by one of
# its descendants (one find over every process's fds).
serving() {
	local inode holder p
	inode=$(listener_inode "$2")
	[[ -n $inode ]] || return 1
	while read -r holder; do
		holder=${holder#/proc/}
		p=${holder%%/*}
		while [[ -n $p && $p != 0 ]]; do
			[[ $p != "$1" ]] || return 0
			ppid_of "$p" || break
			p=$PPID_OF
		done
	done < <(find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:\[$inode\]" 2>/dev/null)
	return 1
}

client_run() {
	local port=$1 program=$2
	shift 2
	run timeout 5 env --default-signal=PIPE "$program" "$port" < <(printf '%s\n' "$@")
}

fd_count() {
	local fds=(/proc/"$1"/fd/*)
	echo "${#fds[@]}"
}
fd_count_is() { [[ $(fd_count "$1") -eq $2 ]]; }

cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086 # split the fields on purpose
	set -- $stat
	echo $((${12} + ${13}))
}

teardown_processes() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in "${BG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	BG_PIDS=()
	# What those started in turn (a failed test's scenario, say) is orphaned
	# now, but still carries the run's mark: end it too, and say so.
	local command
	while read -r pid command; do
		echo "teardown: killed a process the test left behind: $pid $command" >&2
		kill -KILL "$pid" 2>/dev/null || true
	done < <(run_processes)
}

# ppid_of PID: sets PPID_OF to the parent of PID; fails when PID is gone.
ppid_of() {
	stat_of "$1" || return 1
	PPID_OF=$PPID_OF_STAT
}

# The live processes that carry this test's mark, except the shell asking and
# its ancestors and descendants (bats itself, and the asking test's pipeline).
run_processes() { marked_processes "SIGPIPE_LAB_RUN=$SIGPIPE_LAB_RUN" exact; }

# The live processes that carry the mark of any file of this run, but the same.
suite_processes() { marked_processes "SIGPIPE_LAB_RUN=$BATS_RUN_TMPDIR/" prefix; }

# marked_processes ENTRY exact|prefix: the live processes with an environment
# entry that is ENTRY (exact) or begins with it (prefix), except the shell
# asking and its ancestors and descendants. Every test's teardown asks, so
# one grep reads the environments and, for an exact entry, matches it whole
# (a test's own shell has some 60 entries: bash reading them one by one,
# each command traced by bats, took 30 ms); bash checks only the processes found.
marked_processes() {
	local environ pid p cmdline
	local -a found
	local -A mine=()
	# Read to the end first: the grep is then no longer running (it may read
	# its own environment too), and no process of ours reads beside the loop.
	if [[ $2 == exact ]]; then
		mapfile -t found < <(grep -lszxF -- "$1" /proc/[0-9]*/environ)
	else
		mapfile -t found < <(grep -lszF -- "$1" /proc/[0-9]*/environ)
	fi
	# The asking shell's ancestors (a dozen /proc reads): only if a process was found.
	((${#found[@]})) || return 0
	p=$BASHPID
	while [[ -n $p && $p != 0 ]]; do
		mine[$p]=1
		ppid_of "$p" || break
		p=$PPID_OF
	done
	for environ in "${found[@]}"; do
		pid=${environ#/proc/}
		pid=${pid%/environ}
		[[ -z ${mine[$pid]:-} ]] || continue
		[[ $2 == exact ]] || entry_begins "$environ" "$1" 2>/dev/null || continue
		# A process that ends meanwhile is none left behind; one whose
		# ancestor ends meanwhile is no descendant of the asking shell.
		p=$pid
		while [[ -n $p && $p != 0 && -z ${mine[$p]:-} ]]; do
			if ! ppid_of "$p"; then
				[[ -e /proc/$pid ]] || continue 2
				break
			fi
			p=$PPID_OF
		done
		[[ $p != "$BASHPID" ]] || continue
		cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || continue
		echo "$pid $cmdline"
	done
}

# entry_begins ENVIRON PREFIX: the environment file holds an entry that begins
# with PREFIX.
entry_begins() {
	local entry
	while IFS= read -r -d '' entry; do
		[[ $entry != "$2"* ]] || return 0
	done <"$1"
	return 1
}
