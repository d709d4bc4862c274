# Writes that fail: a full filesystem, a directory removed and a filesystem
# made read-only during a real recording, and report/diff/the live view
# writing to a full one. Nothing collected may be lost: each run exits
# non-zero, names the real error, leaves the old file (or none) and no
# temporary file at the target, and saves the profile where it says, in a
# file that `sampletop report` re-renders.
. "$(dirname "$0")/../lib.sh"
plan 68

build_target hot_fp hot.c -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-shrink-wrap
start "$TARGETS/hot_fp" 0
HOT=$PID

FB=$WORK/fallback	# $TMPDIR: where the profiles go when the output fails
FULL=$WORK/full		# a 64 KiB tmpfs, filled
RO=$WORK/ro		# made read-only during a run
mkdir -p "$FB" "$FULL" "$RO"
export TMPDIR=$FB
TM=(tmux -L "sampletop-writes-$$" -f /dev/null)
writes_cleanup() {
	"${TM[@]}" kill-server 2>/dev/null
	mountpoint -q "$RO" && umount -l "$RO"
	mountpoint -q "$FULL" && umount -l "$FULL"
	cleanup
}
trap writes_cleanup EXIT

# The old report, then the filesystem filled to its last 4 KiB: every
# report sampletop writes here is larger, so each write fails part way.
setup "a 64 KiB tmpfs" mount -t tmpfs -o size=64k,mode=0755 sampletop-test "$FULL"
printf 'OLD REPORT\n' >"$FULL/out.html"
dd if=/dev/zero of="$FULL/filler" bs=4k 2>/dev/null
setup "4 KiB left on it" truncate -s -4096 "$FULL/filler"

# fallback_of ERRFILE: the saved profile's path the run's stderr names.
fallback_of() { sed -nE 's/^sampletop: profile saved to ([^ ;]+); re-render it with: .*/\1/p' "$1"; }
# only_files DIR NAMES...: DIR holds exactly these files (no temporary one).
only_files() {
	local want got
	want=$(printf '%s\n' "${@:2}" | sort)
	got=$(ls -A "$1" | sort)
	[ "$want" = "$got" ] || { echo "#   $1 holds: $(echo $got)"; return 1; }
}
# rescued NAME ERRFILE [OPTIONS]: the run's stderr says where the profile
# went, with the command that re-renders it (ending in OPTIONS), and that file loads and shows the
# workload's functions.
rescued() {
	local fb
	fb=$(fallback_of "$2")
	check_grep "$1: stderr says where the profile went and how to re-render it" \
		"^sampletop: profile saved to $FB/sampletop-[0-9]+-[0-9]{8}-[0-9]{6}(-[0-9]+)?\\.json; re-render it with: sampletop report $FB/[^ ]+\\.json${3:+ $3}\$" "$2"
	check_no_grep "$1: no mention of an I/O error that did not happen" 'Input/output error' "$2"
	local rc
	rm -f "$WORK/rescued.folded"
	"$ST" report "${fb:-/nonexistent}" -f folded -o "$WORK/rescued.folded" -q 2>"$WORK/rescued.err"
	rc=$?
	check "$1: the saved profile loads with sampletop report (exit $rc)" test "$rc" -eq 0
	check_grep "$1: it holds the workload's functions" '(^|;)hot_a;leaf [0-9]+$' "$WORK/rescued.folded"
	rm -f "$fb"
}

# --- a recording's -o on a full filesystem ---
"$ST" -q -o "$FULL/out.html" -- "$TARGETS/hot_fp" 1 2>"$WORK/e"; rc=$?
check "full fs: exit non-zero (got $rc)" test "$rc" -ne 0
check_grep "full fs: the real error, in one line" "^sampletop: cannot write $FULL/out.html: No space left on device\$" "$WORK/e"
rescued "full fs" "$WORK/e" "-o $FULL/out.html"
check "full fs: the old report is untouched" test "$(cat "$FULL/out.html")" = "OLD REPORT"
check "full fs: no partial or temporary file beside it" only_files "$FULL" filler out.html
check "full fs: stderr is two lines" test "$(wc -l <"$WORK/e")" -eq 2

# A new file that cannot be written leaves nothing at all.
"$ST" -q -o "$FULL/new.html" -p "$HOT" -d 0.5 2>"$WORK/e"; rc=$?
check "full fs, new file: exit non-zero (got $rc)" test "$rc" -ne 0
check_grep "full fs, new file: the real error" "^sampletop: cannot write $FULL/new.html: No space left on device\$" "$WORK/e"
rescued "full fs, new file" "$WORK/e" "-o $FULL/new.html"
check "full fs, new file: nothing left at the target" only_files "$FULL" filler out.html

# --- the output directory removed during the run ---
mkdir "$WORK/gone"
"$ST" -o "$WORK/gone/out.txt" -p "$HOT" -d 2 2>"$WORK/e" &
sp=$!
setup "sampling started" wait_sampling "$WORK/e"
rm -rf "$WORK/gone"
wait $sp; rc=$?
check "removed directory: exit non-zero (got $rc)" test "$rc" -ne 0
check_grep "removed directory: the real error" "^sampletop: cannot write $WORK/gone/out.txt: No such file or directory\$" "$WORK/e"
rescued "removed directory" "$WORK/e" "-o $WORK/gone/out.txt"
check "removed directory: nothing recreated" test ! -e "$WORK/gone"

# --- a read-only bind mount made during the run ---
printf 'OLD REPORT\n' >"$RO/out.txt"
"$ST" -o "$RO/out.txt" -p "$HOT" -d 2 2>"$WORK/e" &
sp=$!
setup "sampling started" wait_sampling "$WORK/e"
setup "a read-only bind mount" mount --bind "$RO" "$RO"
setup "made read-only" mount -o remount,bind,ro "$RO"
wait $sp; rc=$?
check "read-only fs: exit non-zero (got $rc)" test "$rc" -ne 0
check_grep "read-only fs: the real error" "^sampletop: cannot write $RO/out.txt: Read-only file system\$" "$WORK/e"
rescued "read-only fs" "$WORK/e" "-o $RO/out.txt"
check "read-only fs: the old report is untouched" test "$(cat "$RO/out.txt")" = "OLD REPORT"
check "read-only fs: no temporary file beside it" only_files "$RO" out.txt

# --- report and diff writing to the full filesystem ---
"$ST" -q -p "$HOT" -d 1 -o "$WORK/saved.json"
setup "a saved profile" test -s "$WORK/saved.json"
cp "$WORK/saved.json" "$WORK/saved.copy"
"$ST" report "$WORK/saved.json" -o "$FULL/out.html" 2>"$WORK/e"; rc=$?
check "report to a full fs: exit non-zero (got $rc)" test "$rc" -ne 0
check_grep "report to a full fs: the real error" "^sampletop: cannot write $FULL/out.html: No space left on device\$" "$WORK/e"
check_grep "report to a full fs: says the saved profile is intact" "^sampletop: nothing is lost: the profile is still in $WORK/saved.json\$" "$WORK/e"
check "report to a full fs: the saved profile is unchanged" cmp -s "$WORK/saved.json" "$WORK/saved.copy"
check "report to a full fs: the old report is untouched" test "$(cat "$FULL/out.html")" = "OLD REPORT"
check "report to a full fs: no partial or temporary file" only_files "$FULL" filler out.html
"$ST" diff "$WORK/saved.json" "$WORK/saved.json" -o "$FULL/out.html" 2>"$WORK/e"; rc=$?
check "diff to a full fs: exit non-zero (got $rc)" test "$rc" -ne 0
check_grep "diff to a full fs: the real error" "^sampletop: cannot write $FULL/out.html: No space left on device\$" "$WORK/e"
check_grep "diff to a full fs: says the saved profiles are intact" "^sampletop: nothing is lost: the profiles are still in $WORK/saved.json and $WORK/saved.json\$" "$WORK/e"
check "diff to a full fs: the old report is untouched" test "$(cat "$FULL/out.html")" = "OLD REPORT"
check "diff to a full fs: no partial or temporary file" only_files "$FULL" filler out.html

# --- a rewrite that works replaces the file whole, keeping its mode ---
printf 'OLD REPORT\n' >"$WORK/keep.txt"
chmod 0600 "$WORK/keep.txt"
"$ST" report "$WORK/saved.json" -o "$WORK/keep.txt" -q; rc=$?
check "rewrite: exit 0 (got $rc)" test "$rc" -eq 0
check_grep "rewrite: the new report is in place" ' hot_a  hot_fp$' "$WORK/keep.txt"
check "rewrite: the old file's mode is kept (got $(stat -c %a "$WORK/keep.txt"))" test "$(stat -c %a "$WORK/keep.txt")" = 600
check "rewrite: no temporary file left" test -z "$(find "$WORK" -maxdepth 1 -name '.*.tmp')"
"$ST" report "$WORK/saved.json" -o "$WORK/saved.json" -f json -q; rc=$?
check "a saved profile re-saved over itself: exit 0, same bytes" cmp -s "$WORK/saved.json" "$WORK/saved.copy"

# --- no -o: the report on stdout, a file on the filesystem now quite full ---
dd if=/dev/zero of="$FULL/filler2" bs=4k 2>/dev/null
"$ST" -q -p "$HOT" -d 0.5 -f html >"$FULL/stdout.txt" 2>"$WORK/e"; rc=$?
check "stdout on a full fs: exit non-zero (got $rc)" test "$rc" -ne 0
check_grep "stdout on a full fs: the real error" '^sampletop: writing the report: No space left on device$' "$WORK/e"
rescued "stdout on a full fs" "$WORK/e" "-f html"
rm -f "$FULL/stdout.txt"

# --- the output fails, and so does every fallback ---
(cd "$RO" && TMPDIR=$FULL "$ST" -q -o "$FULL/out.html" -p "$HOT" -d 0.5 2>"$WORK/e"); rc=$?
check "no fallback either: exit non-zero (got $rc)" test "$rc" -ne 0
check_grep "no fallback either: the real error" "^sampletop: cannot write $FULL/out.html: No space left on device\$" "$WORK/e"
check_grep "no fallback either: one line naming every place tried and why" \
	"^sampletop: cannot save the profile anywhere: $FULL: No space left on device; $RO: Read-only file system \\(it is lost\\)\$" "$WORK/e"
check "no fallback either: no temporary file anywhere" only_files "$FULL" filler filler2 out.html
check "no fallback either: nothing in the read-only directory" only_files "$RO" out.txt
rm -f "$FULL/filler2"
check "the fallback directory is left empty" only_files "$FB"

# --- the live view: q writes -o, on the full filesystem ---
if ! command -v tmux >/dev/null; then
	skip 8 "tmux is not installed (scripts/deps.sh --test installs it)"
else
	# screen_wait ERE: until the terminal shows it (10 s at most), in $WORK/screen.
	screen_wait() {
		for _ in $(seq 100); do
			"${TM[@]}" capture-pane -p -t w >"$WORK/screen"
			grep -qE -- "$1" "$WORK/screen" && return
			sleep 0.1
		done
	}
	"${TM[@]}" new-session -d -s w -x 100 -y 30 "env PS1='ui-prompt\$ ' bash --norc --noprofile"
	sleep 0.3
	"${TM[@]}" send-keys -t w "TMPDIR=$FB $ST -p $HOT -o $FULL/out.html 2>$WORK/live.err; echo exit=\$?" Enter
	screen_wait 'hot_a  hot_fp'
	check_grep "live view: running on the target" 'hot_a  hot_fp' "$WORK/screen"
	sleep 1
	"${TM[@]}" send-keys -t w q
	screen_wait '^exit='
	check_grep "live view q: exit 1" '^exit=1$' "$WORK/screen"
	check_grep "live view q: the real error" "^sampletop: cannot write $FULL/out.html: No space left on device\$" "$WORK/live.err"
	rescued "live view q" "$WORK/live.err" "-o $FULL/out.html"
	check "live view q: the old report is untouched, nothing beside it" \
		test "$(cat "$FULL/out.html")" = "OLD REPORT" -a "$(ls -A "$FULL" | sort | xargs)" = "filler out.html"
fi
umount "$RO"
umount "$FULL"
check "every mount made by the test is gone" test -z "$(grep -F "$WORK" /proc/self/mounts)"
finish
