# The bats libraries every test file loads, and how: sourced by
# test_helper/common, in every test, and by setup_suite.bash, once for the run.
#
# Each library's load.bash finds its files by way of dirname: a process
# started for each file (17 for the three), in every test. And bats traces
# each command a test runs (about 125 µs a command here): reading the three
# load.bash files line by line took some 35 ms, in every test. So
# setup_suite.bash lists the files once for the run, and each test sources
# those the list names.

BATS_LIBRARIES=(bats-support bats-assert bats-file)

# The list, a file a line: where setup_suite.bash writes it (none outside a run).
LIBRARY_LIST=${BATS_RUN_TMPDIR:+$BATS_RUN_TMPDIR/bats-libraries}

# library_files NAME...: sets LIBRARY_FILES to the files the load.bash of each
# library NAME, found on BATS_LIB_PATH, sources; in place of those of a
# load.bash that does more than source its files, or of a library not found,
# the library's name itself (for bats_load_library, which loads it or says why not).
library_files() {
	local name dir line
	local -a dirs files
	LIBRARY_FILES=()
	IFS=: read -r -a dirs <<<"${BATS_LIB_PATH:-/usr/lib/bats}"
	for name; do
		files=("$name")
		for dir in "${dirs[@]}"; do
			[[ -f $dir/$name/load.bash ]] || continue
			files=()
			while IFS= read -r line; do
				if [[ $line =~ ^source\ \"\$\(dirname\ \"\$\{BASH_SOURCE\[0\]\}\"\)/([^\"]+)\"$ ]]; then
					files+=("$dir/$name/${BASH_REMATCH[1]}")
				elif [[ -n $line && $line != \#* ]]; then
					files=("$name")
					break
				fi
			done <"$dir/$name/load.bash"
			break
		done
		LIBRARY_FILES+=("${files[@]}")
	done
}

# write_library_list: the list of BATS_LIBRARIES' files, for the run.
write_library_list() {
	library_files "${BATS_LIBRARIES[@]}"
	printf '%s\n' "${LIBRARY_FILES[@]}" >"$LIBRARY_LIST.new" && mv "$LIBRARY_LIST.new" "$LIBRARY_LIST"
}

# load_libraries: BATS_LIBRARIES, from the run's list, or, in a run without
# one, from a list made here.
load_libraries() {
	local file
	if [[ -n $LIBRARY_LIST && -s $LIBRARY_LIST ]]; then
		mapfile -t LIBRARY_FILES <"$LIBRARY_LIST"
	else
		library_files "${BATS_LIBRARIES[@]}"
	fi
	for file in "${LIBRARY_FILES[@]}"; do
		if [[ $file == */* ]]; then
			# shellcheck disable=SC1090 # the libraries' own files
			source "$file"
		else
			bats_load_library "$file"
		fi
	done
}
