# Shared by the shell tests: TAP-style checks, building targets, running
# sampletop. Source it; declare the number of checks with `plan N` (skipped
# ones included: tests/run.sh holds the suite to it); call `finish` at the end.
set -u
# The checks' patterns hold UTF-8 (the tree's box drawing): match them as
# characters whatever locale the caller has (sudo on a minimal system: none).
export LC_ALL=C.UTF-8
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
ST=$BUILD/sampletop
TARGETS=$BUILD/targets
WORK=$(mktemp -d /tmp/sampletop-test.XXXXXX)
mkdir -p "$TARGETS"
_n=0
_failed=0
_pids=()

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# check_grep DESCRIPTION PATTERN FILE: passes when FILE has a line matching PATTERN (ERE).
check_grep() {
	if grep -qE -- "$2" "$3"; then ok "$1"; else not_ok "$1"; echo "#   no line matches /$2/ in $3:"; sed 's/^/#   /' "$3" | head -40; fi
}
check_no_grep() {
	if ! grep -qE -- "$2" "$3"; then ok "$1"; else not_ok "$1"; echo "#   unexpected /$2/ in $3:"; grep -E -- "$2" "$3" | head -5 | sed 's/^/#   /'; fi
}
# skip [N] REASON: N checks (1 if not given) not run here, each an
# "ok # SKIP" line, so the plan still adds up and none counts as passed.
skip() {
	local k=1 i
	[[ $1 =~ ^[0-9]+$ ]] && { k=$1; shift; }
	for ((i = 0; i < k; i++)); do _n=$((_n + 1)); echo "ok $_n - not run # SKIP $*"; done
}
plan() { echo "1..$1"; }
# bail REASON: the suite cannot go on (tests/run.sh counts it as a failure).
bail() { echo "Bail out! $*"; exit 1; }
# setup DESCRIPTION COMMAND...: a step the checks rely on (a fixture built as
# meant), not a check of sampletop: a "# set-up:" note when it works (no
# pass), a bail-out when not.
setup() {
	local d=$1; shift
	"$@" || bail "set-up failed: $d"
	echo "# set-up: $d"
}

# build_target NAME SOURCE CFLAGS...: compiles tests/targets/SOURCE into
# $TARGETS/NAME once; bails out when it does not compile.
build_target() {
	local name=$1 src=$2; shift 2
	if [ ! -x "$TARGETS/$name" ] || [ "$TOP/tests/targets/$src" -nt "$TARGETS/$name" ]; then
		${CC:-gcc} "$@" -o "$TARGETS/$name" "$TOP/tests/targets/$src" -lpthread ||
			bail "cannot build $name from tests/targets/$src"
	fi
}

# start TARGET ARGS...: runs a target in the background; its pid in $PID.
start() { "$@" & PID=$!; _pids+=("$PID"); sleep 0.2; }

cleanup() {
	for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# share FOLDED FUNC: percentage of samples whose stack holds a frame named FUNC.
share() {
	awk -v f="$2" '{ n = $NF; total += n; line = $0; sub(/ [0-9]+$/, "", line);
		k = split(line, fr, ";"); for (i = 1; i <= k; i++) if (fr[i] == f) { hit += n; break } }
		END { if (total == 0) print 0; else printf "%.2f\n", 100 * hit / total }' "$1"
}
total_samples() { awk '{ t += $NF } END { print t + 0 }' "$1"; }
# share_re FOLDED ERE: percentage of samples whose folded line matches ERE.
share_re() {
	local hit total
	hit=$(grep -E -- "$2" "$1" | awk '{ t += $NF } END { print t + 0 }')
	total=$(total_samples "$1")
	awk -v h="$hit" -v t="$total" 'BEGIN { if (t == 0) print 0; else printf "%.2f\n", 100 * h / t }'
}
# within VALUE LOW HIGH: numeric range check.
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }
# after_start_up FOLDED: its lines (of `-a`: PROCESS;frames) less the
# loader's start-up (whole stacks _start;_dl_...) and the exit ([exiting]),
# for a short process's share of main. Those are named right, but grow
# with the load: the start-up's cpuid traps to the hypervisor cost more on
# a busy host (15-45% of a 30 ms process's samples in a Debian 12 chroot).
after_start_up() { grep -vE '^([^;]+;)?(_start;_dl_|\[exiting\]( |$))' "$1"; }

# chromium_run HTML HOT [EVIL]: loads a copy of HTML with the test driver
# (tests/integration/html_driver.js) injected; its key=value results in
# $WORK/res, read with res KEY. Needs chromium and jq.
chromium_run() {
	local page=$WORK/driven.html
	{
		sed 's|</body>||; s|</html>||' "$1"
		printf '<script>window.TEST_HOT=%s;window.TEST_EVIL=%s;</script>\n<script>\n' \
			"$(jq -Rn --arg s "$2" '$s' | sed 's|<|\\u003c|g')" \
			"$(jq -Rn --arg s "${3:-}" '$s' | sed 's|<|\\u003c|g')"
		cat "$TOP/tests/integration/html_driver.js"
		printf '</script>\n</body></html>\n'
	} >"$page"
	rm -rf "$WORK/chrome"
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run \
		--user-data-dir="$WORK/chrome" --window-size=1200,900 --virtual-time-budget=5000 \
		--dump-dom "file://$page" 2>/dev/null |
		sed -n '/<pre id="test-results">/,/<\/pre>/p' | grep -E '^[a-z_]+=' >"$WORK/res"
}
res() { sed -n "s/^$1=//p" "$WORK/res"; }

# speedscope_run FILE: opens FILE in the real speedscope app (npm's, driven by
# playwright-core in Debian's chromium; installed once per suite into
# $WORK/npm): what it shows in $WORK/ss.txt, its errors in $WORK/ss.out (JSON
# .errors). Fails with the reason in SPEEDSCOPE_WHY when it cannot run.
speedscope_run() {
	SPEEDSCOPE_WHY=
	if ! command -v npm >/dev/null || ! command -v chromium >/dev/null; then
		SPEEDSCOPE_WHY="npm or chromium not installed"
		return 1
	fi
	if [ ! -d "$WORK/npm/node_modules/speedscope" ]; then
		mkdir -p "$WORK/npm"
		cp "$TOP/tests/integration/package.json" "$WORK/npm/"
		if ! (cd "$WORK/npm" && timeout 300 npm install --no-audit --no-fund --silent >"$WORK/npm.log" 2>&1); then
			SPEEDSCOPE_WHY="npm install failed (offline?)"
			sed 's/^/#   /' "$WORK/npm.log" | tail -3
			return 1
		fi
	fi
	NODE_PATH=$WORK/npm/node_modules timeout 120 node "$TOP/tests/integration/speedscope_check.js" \
		"$WORK/npm/node_modules/speedscope/dist/release/index.html" "$1" >"$WORK/ss.out" 2>&1
	jq -r '.text' "$WORK/ss.out" 2>/dev/null | tr -d '\t' >"$WORK/ss.txt"
	return 0
}

# wait_sampling ERRFILE: waits (up to 30 s) until a sampletop run without -q
# whose stderr goes to ERRFILE says it is sampling.
wait_sampling() {
	for _ in $(seq 300); do
		grep -q '^sampletop: sampling' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# find_pythons N: the CPythons sampletop reads (pyenv 3.10-3.13, Debian's
# python3.11) into the array pythons; N checks skipped for each one missing.
find_pythons() {
	local v p found
	pythons=()
	for v in 3.10 3.11 3.12 3.13; do
		found=
		for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/$v.*/bin/python$v /root/.pyenv/versions/$v.*/bin/python$v; do
			[ -x "$p" ] && { found=$p; break; }
		done
		if [ -n "$found" ]; then pythons+=("$found"); else skip "$1" "no pyenv python$v (looked in ~/.pyenv/versions/$v.*)"; fi
	done
	if [ -x /usr/bin/python3.11 ]; then pythons+=(/usr/bin/python3.11); else skip "$1" "no /usr/bin/python3.11"; fi
}

finish() {
	echo "# $_n checks, $_failed failed"
	[ "$_failed" -eq 0 ]
}
