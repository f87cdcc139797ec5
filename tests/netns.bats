#!/usr/bin/env bats
# sigtrace --netns: the command runs as whoever ran sigtrace. A user who is not
# root gets a namespace in which sigtrace may capture, but the command itself
# is that user again: its own uid and gid, and no port below 1024. Root stays
# root. The tracer still sees everything the command does.
#
# Each test runs in a subshell of its own, where run sets output and stderr:
# shellcheck disable=SC2030,SC2031,SC2154

bats_require_minimum_version 1.5.0

# The tracer and the labs copied where an unprivileged user can reach them: the
# checkout may sit under a directory only its owner can enter.
setup_file() {
	load 'test_helper/common'
	KIT=$(mktemp -d /tmp/netns-kit.XXXXXX)
	mkdir -p "$KIT/build/labs/1-naive" "$KIT/labs"
	cp "$BUILD/sigtrace" "$KIT/build/"
	cp "$BUILD/labs/1-naive/server" "$BUILD/labs/1-naive/client" "$KIT/build/labs/1-naive/"
	cp -r "$ROOT/labs/scenario" "$ROOT/labs/1-naive" "$KIT/labs/"
	chmod -R a+rX "$KIT"
	export KIT
}
teardown_file() { rm -rf "$KIT"; }

setup() {
	load 'test_helper/common'
	# nobody, when the tests run as root; else the user running them
	if ((EUID == 0)); then
		USER_UID=65534 USER_GID=65534
	else
		USER_UID=$EUID USER_GID=$(id -g)
	fi
}

teardown() { teardown_processes; }

# as_user CMD...: CMD as an unprivileged user (nobody, when the tests run as root)
as_user() {
	if ((EUID == 0)); then
		setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp "$@"
	else
		"$@"
	fi
}

# What a bind to port 80 on the namespace's loopback gives: "bound", or the errno's name.
readonly BIND_80='import errno, socket
s = socket.socket()
try:
    s.bind(("127.0.0.1", 80))
    print("bound")
except OSError as e:
    print(errno.errorcode[e.errno])'

# With --json, the command's own output is on stderr; these are its lines of one word.
command_said() { grep -xE '[A-Za-z0-9 ]+' <<<"$stderr"; }

@test "netns: a user's command runs with that user's uid and gid, not as the namespace's root" {
	cd "$KIT"
	run --separate-stderr as_user build/sigtrace --netns --json -- sh -c 'id -u; id -g' </dev/null 3>&-
	assert_success
	assert_equal "$(command_said)" "$USER_UID"$'\n'"$USER_GID"
}

@test "netns: a user's command may not bind port 80 (EACCES), though sigtrace captures there" {
	cd "$KIT"
	run --separate-stderr as_user build/sigtrace --netns --json -- python3 -c "$BIND_80" </dev/null 3>&-
	assert_success
	assert_equal "$(command_said)" EACCES
	# The capture ran in that namespace: its count is in the events.
	assert_equal "$(jq -c 'select(.type == "capture" and .dropped == 0)' <<<"$output" | wc -l)" 1
}

@test "netns: as a user, lab 1 is traced whole: calls with their addresses, SIGPIPE, the verdict" {
	cd "$KIT"
	run --separate-stderr as_user timeout 60 build/sigtrace --netns --json -- labs/scenario 1-naive </dev/null 3>&-
	assert_success
	events=$output
	assert_equal "$(jq -c 'select(.type == "syscall" and .call == "accept" and .ret > 0 and .remote != null)' <<<"$events" | wc -l)" 1
	assert_equal "$(jq -c 'select(.type == "signal" and .proc == "server" and .signal == "SIGPIPE")' <<<"$events" | wc -l)" 1
	assert_equal "$(jq -c 'select(.type == "verdict" and .server == "killed-by-SIGPIPE")' <<<"$events" | wc -l)" 1
}

@test "netns: root's command stays root: uid 0, and port 80 is its to bind" {
	((EUID == 0)) || skip "the tests do not run as root"
	run --separate-stderr "$BUILD/sigtrace" --netns --json -- sh -c "id -u; python3 -c '$BIND_80'" </dev/null 3>&-
	assert_success
	assert_equal "$(command_said)" $'0\nbound'
}
