# Once for the whole suite (bats runs this before the first file and after the
# last): build what the tests run and list the bats libraries' files
# (test_helper/libraries), and afterwards fail the suite if any process
# a test started is still running. Every process a test starts carries its
# test's mark under the run's directory (SIGPIPE_LAB_RUN, set in
# test_helper/common), which is how suite_processes finds them. The suite's own
# processes (bats, GNU parallel) carry none: common is not loaded here.

setup_suite() {
	make -C "$(dirname "${BASH_SOURCE[0]}")/.." --no-print-directory -s all >&2
	# shellcheck source=tests/test_helper/libraries.bash
	source "$(dirname "${BASH_SOURCE[0]}")/test_helper/libraries.bash"
	write_library_list
}

# no_process_left: none of the run's processes is still running.
no_process_left() { [[ -z $(suite_processes) ]]; }

teardown_suite() {
	load 'test_helper/common'
	# A process that was just killed may take a moment to be reaped.
	if ! wait_for 10 no_process_left; then
		echo "processes the suite started are still running:" >&2
		suite_processes >&2
		return 1
	fi
}
