#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Rewrite the verdict table in README.md from a fresh `gup matrix --markdown`
# run over tests/litmus (between the matrix:begin and matrix:end markers).
#   BUILD=dir (default build): where gup was built.
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

gup=${BUILD:-build}/gup
table=$(mktemp)
trap 'rm -f "$table"' EXIT
"$gup" matrix --markdown tests/litmus > "$table"
awk -v table="$table" '
	/<!-- matrix:begin/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
	/<!-- matrix:end -->/ { skip = 0 }
	!skip { print }
' README.md > README.md.new
mv README.md.new README.md
