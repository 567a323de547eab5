#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install what libgup's build and tests need on a Debian machine, if missing.
# Silent when everything is already there.
#   CC=clang or NEED_CLANG=1   also require clang
set -euo pipefail

pkgs=(gcc libc6-dev make pkg-config libcmocka-dev binutils coreutils)
case "$(basename -- "${CC:-gcc}")" in
	clang*) pkgs+=(clang) ;;
esac
if [ "${NEED_CLANG:-0}" = 1 ]; then
	pkgs+=(clang)
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
		case " ${missing[*]-} " in
			*" $p "*) ;;
			*) missing+=("$p") ;;
		esac
	fi
done

[ "${#missing[@]}" -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2

as_root=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		as_root=(sudo)
	else
		echo "deps.sh: not root and no sudo; please install: ${missing[*]}" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q </dev/null
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
