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

# cpu_grows PID BASE TICKS: PID has used TICKS clock ticks of CPU since it
# had used BASE (a cpu_ticks reading).
cpu_grows() {
	local now
	now=$(cpu_ticks "$1") || return 1
	((now - $2 >= $3))
}

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
