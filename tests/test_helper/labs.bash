# The lab tests' setup and helpers: `load 'test_helper/labs'` at the top of
# a lab's test file gives it setup (common helpers, a free $PORT) and teardown
# (kill what the test started); setup_suite.bash has built the labs.

# shellcheck disable=SC2034 # PORT and SERVER_PID are for the files that load this one

load 'test_helper/common'

setup() { PORT=$(free_port); }
teardown() { teardown_processes; }

# lab_server LAB PORT: LAB's server on PORT (serve, in common.bash).
lab_server() { serve "$2" "$BUILD/labs/$1/server"; }

# lab_client LAB PORT LINES...: LAB's client (client_run, in common.bash).
lab_client() { client_run "$2" "$BUILD/labs/$1/client" "${@:3}"; }

# exit_status PID: wait for PID (a child of this shell) to end, print its status.
exit_status() {
	local rc=0
	wait "$1" || rc=$?
	echo "$rc"
}

# spins PID: PID is runnable (on a CPU, or waiting for one) for at least
# half of a 0.3 s window, within 30 s of trying: a loop that never waits is
# runnable all the time, however loaded the machine; a server waiting in
# accept() or recv() is runnable none of it.
spins() { wait_for 30 runnable_half "$1"; }

# runnable_half PID: over the next 0.3 s, PID's tasks were runnable for half of it.
runnable_half() {
	local before after t0 t1
	before=$(runnable_ns "$1") t0=$(date +%s%N)
	sleep 0.3
	after=$(runnable_ns "$1") t1=$(date +%s%N)
	(((after - before) * 2 >= t1 - t0))
}

# runnable_ns PID: the time PID's tasks have been on a CPU or waiting for one,
# in ns (/proc/PID/task/*/schedstat: the first two fields).
runnable_ns() { { cat /proc/"$1"/task/*/schedstat 2>/dev/null || true; } | awk '{ n += $1 + $2 } END { printf "%.0f\n", n }'; }

# server_printed TEXT: the server's output holds TEXT.
server_printed() { grep -q -- "$1" "$BATS_TEST_TMPDIR/server.out"; }

# signal_caught PID SIGNUM: PID has a handler installed for SIGNUM.
signal_caught() {
	local mask
	mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status")
	(((16#$mask >> ($2 - 1)) & 1))
}

# count_lines REGEX FILE: how many lines of FILE match REGEX (0 if none, or no file).
count_lines() { grep -c -- "$1" "$2" 2>/dev/null || true; }
