#!/usr/bin/env bash
# Checks the direction of user/: each folder may include the headers of the
# folders below it in LAYERS (and its own), never of one above; no two
# folders include each other; every folder of user/ is in LAYERS and has a
# README.md. The order is the one user/README.md draws. TAP output.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)

# Lowest first. A folder uses only those before it.
LAYERS=(base model procs capture symbols unwind python store report tui cmd)

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }

rank() {
	local i
	for i in "${!LAYERS[@]}"; do
		[ "${LAYERS[$i]}" = "$1" ] && { echo "$i"; return; }
	done
	echo -1
}

# Every folder is placed, and says what it owns and may use.
for d in "$TOP"/user/*/; do
	f=$(basename "$d")
	if [ "$(rank "$f")" -lt 0 ]; then
		not_ok "user/$f is in no layer (add it to LAYERS in tests/lint/test_layers.sh and user/README.md)"
	elif [ ! -s "$d/README.md" ]; then
		not_ok "user/$f has a README.md saying what it owns and what it may use"
	else
		ok "user/$f is placed (layer $(rank "$f")) and has a README.md"
	fi
done
# Nothing sits in user/ outside a folder.
loose=$(find "$TOP/user" -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' \) | wc -l)
if [ "$loose" -eq 0 ]; then ok "no source file outside a folder of user/"; else
	not_ok "$loose source files sit directly in user/"; fi

# Every quoted include of user/ names its folder; record the folder pairs.
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
bad_up=0
while IFS= read -r src; do
	from=${src#"$TOP"/user/}
	from=${from%%/*}
	while IFS= read -r inc; do
		case $inc in */*) ;; *) continue ;; esac	# generated or include/ headers
		to=${inc%%/*}
		[ -e "$TOP/user/$inc" ] || { not_ok "${src#"$TOP"/} includes \"$inc\", which does not exist"; continue; }
		[ "$to" = "$from" ] && continue
		echo "$from $to" >>"$edges"
		if [ "$(rank "$to")" -gt "$(rank "$from")" ]; then
			not_ok "${src#"$TOP"/} (layer $from) includes \"$inc\" of the layer above, $to"
			bad_up=$((bad_up + 1))
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$src")
done < <(find "$TOP/user" -mindepth 2 -name '*.[ch]' | sort)
[ "$bad_up" -eq 0 ] && ok "no folder includes a header of a layer above it"

mutual=$(sort -u "$edges" | awk '{ e[$1 " " $2] = 1 } END { for (k in e) { split(k, a, " "); if ((a[2] " " a[1]) in e && a[1] < a[2]) print a[1] " <-> " a[2] } }')
if [ -z "$mutual" ]; then ok "no two folders include each other"; else
	not_ok "folders include each other: $mutual"; fi

echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
