#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The main job: install what is missing, build everything, and print the
# verdict table of the 2009 fork-vs-gup debate: every race of the litmus corpus
# under every design, explored exhaustively (docs/matrix.md).
#   BUILD=dir (default build), CC, SAN, WERROR are passed to make.
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

build=${BUILD:-build}
make -j2 BUILD="$build"
exec "$build/gup" matrix tests/litmus
