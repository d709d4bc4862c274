#!/usr/bin/env bash
# `make bench`: every benchmark in one command. Each bench/<name>.sh prints
# stable "name.key: value" lines; ratios are measured side by side in one run.
set -uo pipefail
cd "$(dirname "$0")"
status=0
for b in core.sh $(ls *.sh | grep -vE '^(run|core)\.sh$'); do
	echo "# bench/$b"
	bash "./$b" || { echo "# bench/$b failed"; status=1; }
done
exit $status
