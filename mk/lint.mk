# make lint: every shell script of the kit through shellcheck (warnings and
# notes alike), so the standard holds for scripts as -Werror holds for C.
# The scripts are the tracked files that are bats tests or bash helpers, or
# whose first line is a shell's #! line.

.PHONY: lint

lint: deps ## check every shell script (scripts/, labs/scenario, tests/, .ci/run) with shellcheck
	@command -v shellcheck >/dev/null || { echo "make lint: shellcheck not found (scripts/install-deps dev installs it)" >&2; exit 2; }
	@files=$$(git ls-files 2>/dev/null | while IFS= read -r f; do \
		case $$f in \
		*.bats | *.bash) echo "$$f" ;; \
		*) [ -f "$$f" ] && head -n 1 "$$f" | grep -qE '^#!.*\b(ba)?sh\b' && echo "$$f" ;; \
		esac; \
	done); \
	[ -n "$$files" ] || { echo "make lint: no shell scripts found (run it in a git checkout)" >&2; exit 2; }; \
	shellcheck $$files && echo "lint: $$(echo "$$files" | wc -l) shell scripts pass shellcheck"

# The tools' C code keeps one format (.clang-format: 4 spaces, K&R braces, 100
# columns). The labs keep the original program's shape instead: they are not
# formatted, so a diff between two labs shows the lesson only.
FORMAT_FILES = $(wildcard capture/*.[ch] lib/*.[ch] tests/unit/*.[ch] load/*.c grade/*.c solution/*.c)
.PHONY: format format-check

format: ## format the tools' C code with clang-format (.clang-format)
	clang-format -i $(FORMAT_FILES)

format-check:
	@command -v clang-format >/dev/null || { echo "make lint: clang-format not found (scripts/install-deps installs it)" >&2; exit 2; }
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "lint: $(words $(FORMAT_FILES)) C files are formatted (make format fixes them)"

lint: format-check
