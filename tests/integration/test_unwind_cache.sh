# The unwind table cache end to end: a first run builds the tables from
# .eh_frame and stores them by build-id, a second run loads them, a planted
# file is refused and replaced, --no-unwind-cache touches nothing; stacks
# reach main whichever way the tables came.
. "$(dirname "$0")/../lib.sh"
plan 12

build_target hot_o2 hot.c -O2 -g
CACHE=$WORK/cache/unwind
export SAMPLETOP_UNWIND_CACHE=$CACHE
LIBC=$(ldd "$TARGETS/hot_o2" | awk '/libc\.so/ { print $3 }')
LIBC_ID=$(readelf -n "$LIBC" | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p' | head -1)
[ -n "$LIBC_ID" ] || bail "no build-id in $LIBC"

# run NAME ARGS...: one profile of hot_o2 for 1.5 s, -v on stderr.
run() {
	local name=$1; shift
	"$ST" -q -v "$@" -o "$WORK/$name.folded" -- "$TARGETS/hot_o2" 1.5 2>"$WORK/$name.err"
}
# main_ok NAME: 95% of NAME's samples or more reach main.
main_ok() {
	local m
	m=$(share "$WORK/$1.folded" main)
	if within "$m" 95 100; then ok "$1: $m% of the samples reach main"; else
		not_ok "$1: only $m% of the samples reach main"; sed 's/^/#   /' "$WORK/$1.err" | head; fi
}
# cache_count NAME WHAT: the number before WHAT in NAME's -v cache line.
cache_count() {
	sed -n "s/^sampletop: unwind cache: .*[:,] \([0-9]*\) $2.*/\1/p" "$WORK/$1.err"
}

run cold
main_ok cold
check "the cache directory is created 0700" test "$(stat -c %a "$CACHE")" = 700
check "libc's rows are stored in a 0600 file named by its build-id" \
	test "$(stat -c %a "$CACHE/$LIBC_ID" 2>/dev/null)" = 600
stored=$(cache_count cold "built and stored")
check "cold run: tables built and stored ($stored), none loaded" \
	test "${stored:-0}" -ge 2 -a "$(cache_count cold loaded)" = 0

run warm
main_ok warm
loaded=$(cache_count warm loaded)
check "warm run: the tables loaded from the cache ($loaded), none built" \
	test "${loaded:-0}" -ge 2 -a "$(cache_count warm "built and stored")" = 0

# A file planted under libc's name (the right owner and mode, wrong bytes).
head -c 5000 /dev/urandom >"$CACHE/$LIBC_ID"
chmod 600 "$CACHE/$LIBC_ID"
run planted
main_ok planted
check "planted file: refused ($(cache_count planted "files refused")), libc's table built again" \
	test "$(cache_count planted "files refused")" = 1 -a "$(cache_count planted "built and stored")" = 1
check "planted file: replaced by a valid one" test "$(stat -c %s "$CACHE/$LIBC_ID")" != 5000

rm -rf "$WORK/cache"
run nocache --no-unwind-cache
main_ok nocache
check "--no-unwind-cache: no cache directory made" test ! -e "$WORK/cache"
check_no_grep "--no-unwind-cache: no cache line in -v" "unwind cache:" "$WORK/nocache.err"
finish
