# shellcheck shell=bash
# Shared by the tools/check-*.sh scripts (bash, sourced).

# The source tree without build directories or benchmark results: the files
# git knows (untracked new ones too), or everything outside a git checkout.
copy_tree() { # SRC DEST
	if git -C "$1" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$1" && git ls-files -z --cached --others --exclude-standard |
			grep -zv '^bench/results/' | tar --null -T - -cf -)
	else
		tar -C "$1" --exclude='./build*' --exclude='./obj-*' --exclude=./bench/results -cf - .
	fi | (cd "$2" && tar xf -)
}
