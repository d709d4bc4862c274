#!/usr/bin/env bash
# `make demo`: profiles the bundled demo workload (tests/targets/hot.c, whose
# hot_a/hot_b/hot_c burn 60/30/10% of its time) and shows its call tree.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/targets
gcc -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-shrink-wrap \
	-o build/targets/hot_fp tests/targets/hot.c
if [ -t 1 ] && [ -t 0 ] && [ -z "${CI:-}" ]; then
	# Interactive: the live view; q quits.
	exec build/sampletop -- build/targets/hot_fp 0
fi
exec build/sampletop -- build/targets/hot_fp 3
