#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The main job: install what is missing, build everything, run the demo.
#   BUILD=dir (default build), CC, SAN, WERROR are passed to make.
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

build=${BUILD:-build}
make -j2 BUILD="$build"
exec "$build/gup" demo
