# make doctor: is this machine ready for the labs? scripts/doctor checks each
# requirement (compiler, libpcap, private network namespaces, ptrace, capture)
# and says what to do about each one that is not met. It installs nothing and
# needs nothing built, so it also runs where `make lab-1` cannot.
.PHONY: doctor

doctor: ## check that a lab can run here (compiler, libpcap, user namespaces, ptrace...), and say what to do if not
	@scripts/doctor
