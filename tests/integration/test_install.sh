# `make install` into a staging directory: the files a package would hold,
# the agent's systemd unit (checked by systemd-analyze when there is one),
# and bash completion driven the way bash drives it (complete -p, then the
# completion function on a few command lines): every subcommand of main.c's
# table and every option of the option tables in user/cmd/ completes.
. "$(dirname "$0")/../lib.sh"
plan 25

D=$WORK/dest
# The sanitizer pass's build is build/san with SAN=1: the same flags, or
# make would relink it without them.
case $BUILD in */san) set -- SAN=1 ;; *) set -- OUTPUT="$BUILD" ;; esac
make -s -C "$TOP" install DESTDIR="$D" "$@" >"$WORK/make.out" 2>&1
check "make install DESTDIR=... succeeds" test $? -eq 0
sed 's/^/#   /' "$WORK/make.out" | tail -5

B=$D/usr/local/sbin/sampletop
U=$D/usr/local/lib/systemd/system/sampletop-agent.service
E=$D/etc/default/sampletop-agent
C=$D/usr/local/share/bash-completion/completions/sampletop
M=$D/usr/local/share/man/man8/sampletop.8
check "the binary in sbin, 0755, and it runs" \
	bash -c "[ \"\$(stat -c %a '$B')\" = 755 ] && '$B' --version >/dev/null"
check "the man page in share/man/man8, the same text" cmp -s "$M" "$TOP/man/sampletop.8"
check "the agent's unit in lib/systemd/system, 0644" test "$(stat -c %a "$U" 2>/dev/null)" = 644
check_grep "its ExecStart runs the installed binary's agent with the environment file's options" \
	'^ExecStart=/usr/local/sbin/sampletop agent \$SAMPLETOP_AGENT_ARGS$' "$U"
check_grep "the options come from /etc/default/sampletop-agent" \
	'^EnvironmentFile=/etc/default/sampletop-agent$' "$U"
check "it restarts on failure, not on a usage error (exit 2)" \
	bash -c "grep -qx 'Restart=on-failure' '$U' && grep -qx 'RestartPreventExitStatus=2' '$U'"
check "hardened, but keeps the capabilities BPF sampling needs" \
	bash -c "grep -q '^CapabilityBoundingSet=.*CAP_BPF' '$U' && grep -q '^CapabilityBoundingSet=.*CAP_PERFMON' '$U' &&
		grep -q '^CapabilityBoundingSet=.*CAP_SYS_ADMIN' '$U' && grep -qx 'ProtectSystem=strict' '$U' &&
		grep -qx 'NoNewPrivileges=yes' '$U' && grep -qx 'StateDirectoryMode=0700' '$U'"
check_grep "the environment file sets SAMPLETOP_AGENT_ARGS, the password only by file" \
	'^SAMPLETOP_AGENT_ARGS=' "$E"
check_no_grep "no password in the environment file" '^[^#]*(password=|PASSWORD=)' "$E"
echo 'SAMPLETOP_AGENT_ARGS="--to clickhouse://ch:8123/db"' >"$E"
make -s -C "$TOP" install DESTDIR="$D" "$@" >/dev/null 2>&1
check_grep "a second install keeps the site's environment file" 'clickhouse://ch:8123/db' "$E"

# PREFIX=/usr: where a distribution package puts things.
make -s -C "$TOP" install DESTDIR="$WORK/usr" PREFIX=/usr "$@" >/dev/null 2>&1
check "PREFIX=/usr: /usr/sbin, /usr/lib/systemd/system, /usr/share/bash-completion/completions" \
	bash -c "[ -x '$WORK/usr/usr/sbin/sampletop' ] &&
		grep -q '^ExecStart=/usr/sbin/sampletop agent' '$WORK/usr/usr/lib/systemd/system/sampletop-agent.service' &&
		[ -f '$WORK/usr/usr/share/bash-completion/completions/sampletop' ]"

# systemd-analyze verify loads the unit as systemd would: directives,
# values, and that ExecStart is an executable (the staged one here).
if command -v systemd-analyze >/dev/null; then
	sed "s|^ExecStart=/usr/local|ExecStart=$D/usr/local|" "$U" >"$WORK/sampletop-agent.service"
	if systemd-analyze verify --man=no "$WORK/sampletop-agent.service" >"$WORK/verify" 2>&1; then
		ok "systemd-analyze verify: the unit is valid"
	else
		not_ok "systemd-analyze verify"
		sed 's/^/#   /' "$WORK/verify"
	fi
	if systemd-analyze security --offline=yes "$WORK/sampletop-agent.service" >"$WORK/sec" 2>&1; then
		level=$(sed -nE 's/.*Overall exposure level for .*: ([0-9.]+).*/\1/p' "$WORK/sec")
		check "systemd-analyze security: exposure ${level:-?} (under 5: OK or better)" within "${level:-10}" 0 5
	else
		skip "systemd-analyze security --offline is not supported here"
	fi
else
	skip 2 "systemd-analyze is not installed"
fi

# Completion, as bash runs it: the installed file, the installed binary.
# comp WORDS...: what completing the last word offers, one per line.
comp() {
	PATH="$D/usr/local/sbin:$PATH" bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_sampletop sampletop
		printf "%s\n" "${COMPREPLY[@]}"' comp "$C" sampletop "$@" 2>&1
}
bash -c ". '$C'; complete -p sampletop" >"$WORK/complete" 2>&1
check_grep "complete -p: sampletop completes with _sampletop" '^complete .*-F _sampletop sampletop$' \
	"$WORK/complete"

# Every subcommand of main.c's table.
want=$(sed -nE '/subcommands\[\] = \{/,/^\};/s/^\s*\{ "([a-z0-9-]+)",.*/\1/p' "$TOP/user/cmd/main.c")
got=$(comp '' | tr '\n' ' ')
missing=$(for s in $want; do [[ " $got " == *" $s "* ]] || echo "$s"; done)
check "every subcommand completes ($(echo $want)): got $got" test -n "$want" -a -z "$missing"

# Every option of every table: cli.c's for recording (and the view options
# of report and diff), a table in user/cmd/NAME.c for the subcommand NAME.
missing=
for f in "$TOP"/user/cmd/*.c; do
	opts=$(grep -oE '^\s*\{ "[a-z][a-z0-9-]*", (no|required|optional)_argument' "$f" |
		sed -E 's/.*"(.*)".*/--\1/')
	[ -n "$opts" ] || continue
	sub=$(basename "$f" .c)
	[ "$sub" = cli ] && sub=
	got=" $(comp $sub - | tr '\n' ' ') "
	for o in $opts; do [[ $got == *" $o "* ]] || missing="$missing ${sub:-record}:$o"; done
done
check "every long option of the tables in user/cmd/ completes${missing:+ (missing:$missing)}" \
	test -z "$missing"

# And every option each subcommand's --help shows, short ones too.
missing=
for sub in "" $want; do
	"$B" $sub --help >"$WORK/help" 2>&1
	# Above the examples; the usage lines of the other subcommands name
	# their options, not this one's.
	shown=$({ sed '/^Examples:/,$d' "$WORK/help" | grep -vE '^(Usage:)?\s+sampletop [a-z]'
		  [ -n "$sub" ] && grep -E "^(Usage:)?\s+sampletop $sub( |$)" "$WORK/help"; } |
		grep -oE -- '(^|[ ,[/(])--?[a-zA-Z][a-zA-Z-]*' | sed -E 's/^[ ,[/(]//' | sort -u)
	got=" $(comp $sub - | tr '\n' ' ') "
	for o in $shown; do
		[[ $got == *" $o "* ]] || missing="$missing ${sub:-record}:$o"
	done
done
check "every option each subcommand's --help shows completes${missing:+ (missing:$missing)}" \
	test -z "$missing"

check "-f completes the formats" test "$(comp -f '' | sort | tr '\n' ' ')" = \
	"folded html json pprof speedscope text "
check "--unwind completes its modes" test "$(comp --unwind '' | tr '\n' ' ')" = "auto dwarf fp "
check "report --inv completes --invert" test "$(comp report --inv)" = "--invert"
check "after --, the command to launch" grep -qx bash <(comp -- bas)
check "-u completes user names" test "$(comp -u roo | head -1)" = root
check "agent --to completes the URL's scheme" test "$(comp agent --to '')" = "clickhouse://"
check "agent --spool-dir completes directories" grep -qx /tmp <(comp agent --spool-dir /tm)
finish
