#!/usr/bin/env bash
# Runs every benchmark script in bench/ (bench/<name>.sh) in turn.
set -u
status=0
for b in "$(dirname "$0")"/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	bash "$b" || status=1
done
exit $status
