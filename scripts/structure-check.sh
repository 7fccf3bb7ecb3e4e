#!/bin/sh
# The structure targets of docs/ARCHITECTURE.md, checked over src/:
#   - no file over 900 lines;
#   - no function over 150 lines (from the line with its name to its closing
#     brace; a function body opens with `{` and closes with `}` in column 0);
#   - one cleanup style per function: no function both declares a cleanup
#     attribute (__attribute__((cleanup ...)) or a _cleanup_*_ macro) and
#     jumps to a label (goto).
# Prints each breach and exits 1 if there is one; `-v` also lists the
# longest files and functions.
set -eu
cd "$(dirname "$0")/.."
MAX_FILE=${MAX_FILE:-900}
MAX_FUNC=${MAX_FUNC:-150}
verbose=0
[ "${1:-}" = -v ] && verbose=1
files=$(find src -name '*.[ch]' | sort)
[ -n "$files" ] || { echo "structure-check: no sources under src/" >&2; exit 2; }

# One row per function: file, first line, length, name, mixes (0/1).
funcs=$(awk '
	FNR == 1 { infn = 0; sig = 0 }
	# A definition: its first line starts in column 0 with a name (the
	# parameters may go on in indented lines), its body opens with "{" in
	# column 0.
	!infn && /^[A-Za-z_]/ { sig = FNR; name = $0 }
	!infn && /^\{/ { infn = 1; start = sig; cl = 0; gt = 0; next }
	infn && /^\}/ {
		n = name; sub(/\(.*/, "", n); k = split(n, w, /[ \t*]+/); n = w[k]
		printf "%s %d %d %s %d\n", FILENAME, start, FNR - start + 1, n, (cl && gt)
		infn = 0; next
	}
	infn && (/__attribute__\(\(cleanup/ || /_cleanup_[a-z]+_/) { cl = 1 }
	infn && /(^|[^A-Za-z_])goto[ \t]/ { gt = 1 }
' $(echo "$files" | grep '\.c$'))

bad=0
for f in $files; do
	n=$(wc -l <"$f")
	if [ "$n" -gt "$MAX_FILE" ]; then
		echo "$f: $n lines (at most $MAX_FILE)"; bad=1
	fi
done
long=$(echo "$funcs" | awk -v m="$MAX_FUNC" '$3 > m { printf "%s:%d: %s is %d lines (at most %d)\n", $1, $2, $4, $3, m }')
[ -z "$long" ] || { echo "$long"; bad=1; }
mixed=$(echo "$funcs" | awk '$5 == 1 { printf "%s:%d: %s mixes cleanup attributes and goto labels\n", $1, $2, $4 }')
[ -z "$mixed" ] || { echo "$mixed"; bad=1; }

if [ "$verbose" = 1 ]; then
	echo "longest files:"; wc -l $files | grep -v ' total$' | sort -rn | head -5
	echo "longest functions:"; echo "$funcs" | sort -k3,3rn | head -5 | awk '{ printf "  %4d %s (%s:%d)\n", $3, $4, $1, $2 }'
	echo "functions: $(echo "$funcs" | wc -l)"
fi
[ "$bad" = 0 ] && echo "structure-check: files <= $MAX_FILE lines, functions <= $MAX_FUNC lines, one cleanup style per function"
exit "$bad"
