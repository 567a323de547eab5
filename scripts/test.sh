#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The whole test suite: install what is missing, build, run every test.
#   BUILD=dir (default build), CC=clang, SAN=address,undefined, T=test_name...
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

args=(BUILD="${BUILD:-build}")
[ -n "${CC:-}" ] && args+=(CC="$CC")
[ -n "${SAN:-}" ] && args+=(SAN="$SAN")
[ -n "${WERROR:-}" ] && args+=(WERROR="$WERROR")
[ -n "${T:-}" ] && args+=(T="$T")

make -j2 "${args[@]}" check
