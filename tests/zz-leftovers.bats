#!/usr/bin/env bats
# Runs last (files run in name order): nothing the suite started outlives it.

setup() { load 'test_helper/common'; }

@test "no process started by the test suite is still running" {
	quiet() { [[ -z $(run_processes) ]]; }
	# A process that was just killed may take a moment to be reaped.
	if ! wait_for 5 quiet; then
		run_processes >&2
		false
	fi
}
