#!/usr/bin/env bats
# make doctor: its verdict agrees with a real traced run, and each requirement
# that is not met is named, with what to do, and makes it fail. A missing
# compiler or libpcap is simulated through PATH or CC, a kernel setting through
# a directory of fake sysctl files (DOCTOR_SYSCTL); nothing is uninstalled or
# changed on the machine.

bats_require_minimum_version 1.5.0
load 'test_helper/common'

# The doctor a student runs, and the tracer it tries, copied where an
# unprivileged user can reach them: the checkout itself may sit under a
# directory only its owner can enter (a clone in a fresh mktemp -d, as CI makes).
setup_file() {
	load 'test_helper/common'
	KIT=$(mktemp -d /tmp/doctor-kit.XXXXXX)
	mkdir -p "$KIT/scripts" "$KIT/build"
	cp "$ROOT/scripts/doctor" "$KIT/scripts/"
	cp "$BUILD/sigtrace" "$KIT/build/"
	chmod -R a+rX "$KIT"
	export KIT
}
teardown_file() { rm -rf "$KIT"; }

# The fakes live where the unprivileged user can read them (a test's own
# temporary directory may sit under one only its owner can enter).
setup() {
	FAKES=$(mktemp -d /tmp/doctor-fakes.XXXXXX)
	chmod 755 "$FAKES"
}
teardown() { rm -rf "$FAKES"; }

# doctor ARGS...: run scripts/doctor as an unprivileged user (nobody, when the
# tests run as root), as a student would. The environment is passed through.
as_student() {
	if ((EUID == 0)); then
		setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp "$@"
	else
		"$@"
	fi
}

# A directory of sysctl files, each NAME=VALUE argument one file
# (kernel.yama.ptrace_scope=2 becomes kernel/yama/ptrace_scope).
fake_sysctl() {
	local dir=$FAKES/sys setting file
	mkdir -p "$dir"
	for setting in "$@"; do
		file=$dir/$(tr . / <<<"${setting%%=*}")
		mkdir -p "${file%/*}"
		echo "${setting#*=}" >"$file"
	done
	chmod -R a+rX "$FAKES"
	echo "$dir"
}

# A directory to put first in PATH, holding a stand-in for COMMAND that prints
# MESSAGE to stderr and fails.
failing_stub() {
	local dir=$FAKES/bin
	mkdir -p "$dir"
	printf '#!/bin/sh\necho "%s" >&2\nexit 1\n' "$2" >"$dir/$1"
	chmod -R a+rX "$FAKES"
	chmod a+x "$dir/$1"
	echo "$dir"
}

@test "doctor: its verdict on this machine agrees with a real traced run of a lab's namespace" {
	run as_student "$KIT/scripts/doctor"
	real=0
	as_student "$KIT/build/sigtrace" --netns -- true >/dev/null 2>&1 || real=$?
	if ((real == 0)); then
		assert_success
		assert_output --partial "ok    C compiler"
		assert_output --partial "ok    libpcap"
		assert_output --partial "ok    a traced run"
		refute_output --partial "FAIL"
	else
		assert_failure 1
		assert_output --partial "FAIL"
	fi
}

@test "doctor: make doctor runs it, and make help lists it" {
	run make -C "$ROOT" --no-print-directory -s doctor
	assert_output --partial "doctor: what the labs need, checked one by one"
	run make -C "$ROOT" --no-print-directory help
	assert_output --regexp "make doctor +check that a lab can run here"
}

@test "doctor: a compiler that is not there fails, and says what to install" {
	CC=no-such-cc run as_student "$KIT/scripts/doctor"
	assert_failure 1
	assert_line "  FAIL  C compiler: no-such-cc not found"
	assert_output --partial "do: sudo scripts/install-deps lab"
	assert_output --partial "requirement(s) not met"
}

@test "doctor: a libpcap that pkg-config does not know fails, and says what to install" {
	bin=$(failing_stub pkg-config "Package libpcap was not found in the pkg-config search path.")
	PATH=$bin:$PATH run as_student "$KIT/scripts/doctor"
	assert_failure 1
	assert_output --partial "FAIL  libpcap: pkg-config knows no libpcap (the package libpcap-dev is missing)"
	assert_output --partial "do: sudo scripts/install-deps lab"
}

@test "doctor: AppArmor's restriction of user namespaces (Ubuntu 23.10+) fails for a student, with both ways out" {
	# The kernel's refusal is simulated: unshare fails as it does there.
	bin=$(failing_stub unshare "unshare: write failed /proc/self/uid_map: Operation not permitted")
	sys=$(fake_sysctl kernel.apparmor_restrict_unprivileged_userns=1 user.max_user_namespaces=10000)
	PATH=$bin:$PATH DOCTOR_SYSCTL=$sys run as_student "$KIT/scripts/doctor"
	assert_failure 1
	assert_output --partial "FAIL  a lab's private network namespace: AppArmor restricts unprivileged user namespaces"
	assert_output --partial "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
	assert_output --partial "apparmor_parser"
	refute_output --partial "a traced run"
}

@test "doctor: user namespaces switched off by kernel.unprivileged_userns_clone fail, with the sysctl to set" {
	bin=$(failing_stub unshare "unshare: unshare failed: Operation not permitted")
	sys=$(fake_sysctl kernel.unprivileged_userns_clone=0)
	PATH=$bin:$PATH DOCTOR_SYSCTL=$sys run as_student "$KIT/scripts/doctor"
	assert_failure 1
	assert_output --partial "kernel.unprivileged_userns_clone = 0"
	assert_output --partial "do: sudo sysctl -w kernel.unprivileged_userns_clone=1"
}

@test "doctor: Yama's ptrace_scope 2 fails for a student and passes for root; 3 fails for everyone" {
	sys=$(fake_sysctl kernel.yama.ptrace_scope=2)
	DOCTOR_SYSCTL=$sys run as_student "$KIT/scripts/doctor"
	assert_failure 1
	assert_output --partial "FAIL  ptrace: kernel.yama.ptrace_scope = 2: only root may trace"
	assert_output --partial "do: sudo sysctl -w kernel.yama.ptrace_scope=1"
	if ((EUID == 0)); then
		DOCTOR_SYSCTL=$sys run "$ROOT/scripts/doctor"
		assert_output --partial "ok    ptrace: kernel.yama.ptrace_scope = 2: root may trace"
	fi
	sys=$(fake_sysctl kernel.yama.ptrace_scope=3)
	DOCTOR_SYSCTL=$sys run "$ROOT/scripts/doctor"
	assert_failure 1
	assert_output --partial "FAIL  ptrace: kernel.yama.ptrace_scope = 3: nobody may trace"
}

@test "doctor: refuses arguments with a usage line (status 2)" {
	run "$ROOT/scripts/doctor" --bogus
	assert_failure 2
	assert_output --partial "usage: doctor"
}
