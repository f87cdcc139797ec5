#!/usr/bin/env bats
# Under load: a thousand clients at once against the solution, a third of them
# leaving rudely (a FIN mid-line, a RST, replies left unread). The server
# lives, answers every line of every client that stays, gives back every file
# descriptor, and idles at no CPU. And the load generator itself tells a wrong
# server from a right one.
#
# LOAD_SERVER names another server binary to put under the same load.

# shellcheck disable=SC2153 # SERVER_PID is set by serve (test_helper/common)

setup_file() {
	make -C "$BATS_TEST_DIRNAME/.." --no-print-directory -s build/loadgen build/solution/server \
		build/labs/1-naive/server build/labs/2-send-removed/server >&2
}

setup() {
	load 'test_helper/common'
	PORT=$(free_port)
	SERVER_OUT=$BATS_TEST_TMPDIR/server.out
	SERVER_BIN=${LOAD_SERVER:-$BUILD/solution/server}
}

teardown() { teardown_processes; }

# start_server BIN: BIN on $PORT (serve, in common.bash, sets $SERVER_PID).
start_server() { serve "$PORT" "$1"; }

# loadgen ARG...: the load generator against $PORT, bounded; sets $status and
# $output as `run` does.
loadgen() {
	run timeout 60 "$BUILD/loadgen" -p "$PORT" --deadline 30 "$@"
}

# The summary's machine-readable last line: the value of KEY.
summary_value() {
	local key=$1 field
	for field in ${lines[-1]}; do
		if [[ $field == "$key="* ]]; then
			echo "${field#*=}"
			return 0
		fi
	done
	return 1
}

# The load every test of the solution runs: a thousand clients at once, ten
# lines each, a third rude, a tenth slow.
heavy_load() {
	loadgen -n 1000 -m 10 --rude 0.33 --slow 0.1
}

# --- the solution under load -----------------------------------------------------

@test "load: 1000 clients at once, a third rude: every client that stays gets every reply, in order" {
	start_server "$SERVER_BIN"
	heavy_load
	assert_success
	assert_line --regexp '^result=ok clients=1000 ok=670 well_behaved=670 rude_left=330 rude=330 '
	# Every line was answered: 670 clients x 10, and the rude clients' first
	# halves, 5 lines each (the reply to the line after it, which 110 of them
	# leave unread, is not counted).
	[[ $(summary_value replies) -eq $((670 * 10 + 330 * 5)) ]]
	[[ $(summary_value errors) == none ]]
	alive "$SERVER_PID"
	# The server saw each kind of rude exit, and said so.
	grep -qF 'left an unfinished line' "$SERVER_OUT"
	grep -qE 'reset the connection|has gone' "$SERVER_OUT"
}

@test "load: after 1000 clients at once, the server is back to its file descriptors and idles at no CPU" {
	start_server "$SERVER_BIN"
	local before
	before=$(fd_count "$SERVER_PID")
	heavy_load
	assert_success
	alive "$SERVER_PID"
	wait_for 20 fd_count_is "$SERVER_PID" "$before"

	# Idle: over a second, at most one clock tick of CPU (the rounding of a tick).
	local t0 t1
	t0=$(cpu_ticks "$SERVER_PID")
	sleep 1
	t1=$(cpu_ticks "$SERVER_PID")
	(( t1 - t0 <= 1 ))

	# And it still serves.
	loadgen -n 1 -m 3
	assert_success
	assert_line --regexp '^result=ok clients=1 ok=1 '
}

# --- the load generator tells a wrong server -------------------------------------

@test "loadgen: a server that never replies (lab 2) fails the run, and the summary says it waited for a reply" {
	start_server "$BUILD/labs/2-send-removed/server"
	run timeout 30 "$BUILD/loadgen" -p "$PORT" -n 3 -m 2 --deadline 1
	assert_failure 1
	assert_line --regexp '^result=failed clients=3 ok=0 '
	assert_output --partial 'timeout=3'
	assert_output --partial 'waiting for a reply at the deadline'
}

@test "loadgen: a server that answers each piece rather than each line (lab 1) fails the run with extra replies" {
	start_server "$BUILD/labs/1-naive/server"
	run timeout 30 "$BUILD/loadgen" -p "$PORT" -n 1 -m 2 --slow 1 --slow-pause 5 --deadline 10
	assert_failure 1
	assert_line --regexp '^result=failed clients=1 ok=0 '
	assert_output --partial 'extra-reply=1'
	assert_output --partial 'answered twice?'
}

@test "loadgen: nothing listening fails every client at connect" {
	run timeout 30 "$BUILD/loadgen" -p "$PORT" -n 5 -m 1 --deadline 5
	assert_failure 1
	assert_output --partial 'connect=5'
	assert_output --partial 'Connection refused'
}

@test "loadgen: bad arguments are refused with usage, exit 2" {
	run "$BUILD/loadgen" -n 10
	assert_failure 2
	assert_output --partial 'no port'
	run "$BUILD/loadgen" -p 1 --rude 1.5
	assert_failure 2
	assert_output --partial "bad rude share '1.5'"
	run "$BUILD/loadgen" -p 1 --rude 0.6 --slow 0.6
	assert_failure 2
	assert_output --partial 'add up to more than every client'
}

@test "loadgen: more clients than the file limit allows is a clear failure, not a partial run" {
	run bash -c 'ulimit -Sn 64 && ulimit -Hn 64 && exec "$1" -p "$2" -n 100 -m 1' _ "$BUILD/loadgen" "$PORT"
	assert_failure 1
	assert_output --partial '100 clients need 116 open files, but the limit is 64'
}
