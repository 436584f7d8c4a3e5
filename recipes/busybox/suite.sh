# musltool's functional suite for BusyBox, run by the built BusyBox's own sh:
#   busybox sh suite.sh
# Applets are reached through bin/<applet> symlinks on PATH. A test runs only when every
# applet it names is in the binary; the first one named is the applet it is evidence for.
# Each test runs in a folder of its own under $TMPDIR, in a shell of its own, with a time
# limit. Output, one record a line, read by musltool:
#   HELP|applet|ok|none      the applet's --help printed its usage text (or did not)
#   PASS|applets|test        FAIL|applets|test|what it printed
#   KO|applets|test|stand-in|killed   (with MUSLTOOL_KNOCKOUT=1) the test run again with its
#                            first applet replaced by a stand-in: killed (the test failed, as it
#                            must) or survived (it passed: it proves nothing about that applet)
#   SUITE-END                the suite ran to its end
# Applets no test here can exercise are listed, with the reason, in recipe.toml
# ([not_testable]): musltool checks that list against what the suite reached.
#
# MUSLTOOL_ISOLATED=1 says the session has its own /etc, /var, /dev and network namespace
# (a container): tests that add users, start daemons or bind ports run only then, never on a
# host. MUSLTOOL_EMULATED=1 says the ISA runs under qemu-user, MUSLTOOL_BYTE_SWAPPED=1 that its
# byte order is not the host's. MUSLTOOL_ENDIAN is the ISA table's byte order (little or big).
# MUSLTOOL_SUITE_DATA is a folder of small archives to unpack (zip, xz, lzma, deb).

APPLETS=" $(echo $(busybox --list)) "
WORK="${TMPDIR:-/tmp}"
ISOLATED="${MUSLTOOL_ISOLATED:-}"
EMULATED="${MUSLTOOL_EMULATED:-}"  # set when this ISA runs under qemu-user
SWAPPED="${MUSLTOOL_BYTE_SWAPPED:-}"  # set when qemu-user swaps bytes between guest and host
ENDIAN="${MUSLTOOL_ENDIAN:-little}"
DATA="${MUSLTOOL_SUITE_DATA:-/suite-data}"
MACHINE="${MUSLTOOL_MACHINE:-}"  # what uname -m must say: the ISA table's, not the applet's own
KNOCKOUT="${MUSLTOOL_KNOCKOUT:-}"  # run every test again with its applet knocked out
STANDINS="exit0 exit1 echo"  # does nothing; fails; echoes its arguments
BB=$(command -v busybox)
export WORK DATA ISOLATED EMULATED SWAPPED ENDIAN MACHINE
# Applets that take --help as an ordinary argument (POSIX: test, true, false, echo).
NOHELP=" true false test [ [[ echo "
N=  # one dot per test so far: ${#N} numbers the tests without shell arithmetic
n=0

# An applet is there, or (for helpers the shell may build in) the shell has it.
has() {
	case "$APPLETS" in *" $1 "*) return 0 ;; esac
	case " echo printf test [ " in *" $1 "*) command -v "$1" >/dev/null 2>&1 && return 0 ;; esac
	return 1
}

oneline() {
	out=
	while IFS= read -r line; do out="$out${out:+\\n}$line"; done
	echo "$out"
}

# The harness uses shell builtins only: a small --applets build may lack mkdir, cat, test.

# Makes (when mkdir is there) and names the folder of the next test: $n and $dir.
next_test() {
	N="$N."
	n=${#N}
	dir="$WORK"
	if has mkdir; then
		dir="$WORK/test$n"
		mkdir -p "$dir"
	fi
}

# Runs one test's commands in its folder, in a subshell (a fork: cheap under qemu-user,
# where starting a program is not). Output goes to a file, not a pipe: a daemon a test left
# running cannot hold the suite up. (The whole suite has a time limit; on a hang, the last
# RUN| line on stderr names the test.)
run_test() {
	( cd "$dir" && eval "$1" ) >"$WORK/test$n$2.out" 2>&1 </dev/null
}

# $got: what test $1 printed (or its knock-out run $2), trailing newlines dropped (as
# $(cat FILE) would give).
read_output() {
	got=
	while IFS= read -r line || case "$line" in "") false ;; esac; do
		got="$got$line
"
	done < "$WORK/test$1$2.out"
	while :; do
		case "$got" in *"
") got=${got%?} ;; *) break ;; esac
	done
}

# Prints the PASS or FAIL record of test $1 (a number) for applets $2, name $3, expected $4.
record() {
	read_output "$1"
	case "$got" in
	"$4") echo "PASS|$2|$3" ;;
	*) echo "FAIL|$2|$3|$(echo "$got" | oneline)" ;;
	esac
}

# Knock-out: a stand-in named as the applet, first on PATH (and in place of `busybox APPLET`),
# for one run of the test in a fresh folder. KO_APPLET and KO_DIR say which, while it runs.
standin() {
	mkdir -p "$WORK/ko$n-$1"
	case "$1" in
	exit0) body='exit 0' ;;
	exit1) body='exit 1' ;;
	echo) body='echo "$@"' ;;
	esac
	printf '#!%s sh\n%s\n' "$BB" "$body" > "$WORK/ko$n-$1/$2"
	chmod 755 "$WORK/ko$n-$1/$2"
}
busybox() {
	case "$KO_APPLET:$1" in
	?*:"$KO_APPLET") shift; "$KO_DIR/$KO_APPLET" "$@" ;;
	*) command busybox "$@" ;;
	esac
}
# knockout_run N APPLETS CMD KIND: run test N again with the first of APPLETS a stand-in.
knockout_run() {
	set -- "$1" "${2%% *}" "$3" "$4"
	standin "$4" "$2"
	dir="$WORK/test$1-$4"
	mkdir -p "$dir"
	_t=; { read -r _t < "$WORK/tries$1"; } 2>/dev/null
	_t="$_t$_t.........."
	( KO_APPLET=$2 KO_DIR="$WORK/ko$1-$4" PATH="$WORK/ko$1-$4:$PATH" POLL_LIMIT=${#_t}; n=$1; run_test "$3" "-$4" )
}
# knockout_record N APPLETS NAME EXPECTED KIND
knockout_record() {
	read_output "$1" "-$5"
	case "$got" in
	"$4") echo "KO|$2|$3|$5|survived" ;;
	*) echo "KO|$2|$3|$5|killed" ;;
	esac
}

# Reads the test's commands from stdin into $cmd; false when an applet it names is missing.
take() {
	cmd=
	while IFS= read -r line; do cmd="$cmd$line
"; done
	for a in $1; do has "$a" || return 1; done
	return 0
}

# t "applet [helpers...]" "test name" "expected output"  <<'EOF' ...commands... EOF
t() {
	take "$1" || return 0
	echo "RUN|$1|$2" >&2  # on a hang, the last of these names the test
	next_test
	run_test "$cmd"
	record "$n" "$1" "$2" "$3"
	[ -n "$KNOCKOUT" ] || return 0
	for kind in $STANDINS; do
		knockout_run "$n" "$1" "$cmd" "$kind"
		knockout_record "$n" "$1" "$2" "$3" "$kind"
	done
}

# when 'CONDITION' KIND ...: a test of KIND (t, tiso, tbg ...) that runs only when CONDITION
# holds (an applet's optional feature, seen in its usage text); otherwise the applet rests on
# other evidence.
when() {
	cond=$1
	kind=$2
	shift 2
	if eval "$cond" >/dev/null 2>&1; then
		"$kind" "$@"
	else
		take "$1"
	fi
}

# usage APPLET TEXT: whether the applet's usage text mentions TEXT (an optional feature).
usage() {
	case "$(busybox "$1" --help 2>&1)" in *"$2"*) return 0 ;; esac
	return 1
}

# tiso: a test that needs the session's own /etc, /var, network: skipped on a host.
tiso() {
	case "$ISOLATED" in
	"") take "$1" ;;
	*) t "$@" ;;
	esac
}

# tnative: an isolated test that qemu-user cannot run (it does not translate every netlink
# message): skipped under emulation, where the applet rests on other evidence.
tnative() {
	case "$ISOLATED:$EMULATED" in
	?*:) t "$@" ;;
	*) take "$1" ;;
	esac
}

# tnetlink: an isolated test of netlink replies, skipped where qemu-user swaps bytes between
# guest and host: it swaps the attributes it knows and passes the others through unswapped
# (qemu 7.2 on s390x: "ip: deficit 4, rta_len=1024!"), so the applet rests on other evidence.
tnetlink() {
	case "$SWAPPED" in
	"") tiso "$@" ;;
	*) take "$1" ;;
	esac
}

# listening PORT: waits (up to 10 s) until a socket is bound to local port PORT, by reading
# /proc/net with builtins; a server test starts its client only then, however slow the
# machine. (Only `printf` and `sleep` are applets: a test that uses this needs them.)
listening() {
	# no arithmetic expansion here: it is a shell option, and the whole suite must parse without it
	hex=$(printf '%04X' "$1")
	tries=
	while :; do
		for table in /proc/net/tcp /proc/net/udp /proc/net/tcp6 /proc/net/udp6; do
			{ while read -r _ local _; do
				case "$local" in *:"$hex") return 0 ;; esac
			done < "$table"; } 2>/dev/null
		done
		tries="$tries."
		case ${#tries} in 50) return 1 ;; esac
		sleep 0.2
	done
}

# started PID PROGRAM: waits (up to 10 s) until process PID runs PROGRAM: `prog &` forks a
# shell that execs the program a moment later, and a test that looks for it must not look
# before that.
started() {
	tries=
	while :; do
		comm=
		{ read -r comm < "/proc/$1/comm"; } 2>/dev/null
		case "$comm" in "$2") return 0 ;; esac
		tries="$tries."
		case ${#tries} in 200) return 1 ;; esac
		sleep 0.05
	done
}

# gone PID: waits (up to 2 s) for process PID to end; if it has not, kills it and says so.
gone() {
	tries=
	while { kill -0 "$1"; } 2>/dev/null; do
		tries="$tries."
		case ${#tries} in 20) kill -9 "$1"; echo "still running"; return 1 ;; esac
		sleep 0.1
	done
}

# poll 'CONDITION' ['ACTION']: until CONDITION holds, runs ACTION and waits 0.2 s, at most 50
# times (10 s: a daemon may need a moment on a busy machine). The tries a test's own run
# needed are noted (tries$n); its knock-out runs poll at most twice as many plus 10 (2 s),
# not 50: a stand-in gets more than twice the time the applet took, and the suite does not
# wait out every limit three times over.
poll() {
	_w=
	until eval "$1" 2>/dev/null; do
		case ${#_w} in "${POLL_LIMIT:-50}") return 1 ;; esac
		eval "${2:-:}"
		_w=.$_w
		sleep 0.2
	done
	case "$KO_APPLET" in "") _t=; { read -r _t < "$WORK/tries$n"; } 2>/dev/null; echo "$_t$_w" > "$WORK/tries$n" ;; esac
}

# tbg / tbgiso: like t / tiso, for a test that mostly waits (a daemon to start, a timer) and
# touches nothing another test uses (its own port, folder, files). They are queued and run
# together after every other test, then recorded in order.
QUEUED=
tbg() {
	take "$1" || return 0
	next_test
	eval "QCMD$n=\$cmd QAPPLETS$n=\$1 QNAME$n=\$2 QEXPECTED$n=\$3 QDIR$n=\$dir"
	QUEUED="$QUEUED $n"
}
tbgiso() {
	case "$ISOLATED" in
	"") take "$1" ;;
	*) tbg "$@" ;;
	esac
}

run_queued() {
	for n in $QUEUED; do
		eval "cmd=\$QCMD$n dir=\$QDIR$n"
		run_test "$cmd" &
	done
	wait
	for n in $QUEUED; do
		eval "record $n \"\$QAPPLETS$n\" \"\$QNAME$n\" \"\$QEXPECTED$n\""
	done
	# Background tests (servers, daemons, timers) are not knocked out: a stand-in for a daemon
	# leaves its client waiting out every time limit. Their records carry no KO lines.
}

# Usage text of every applet, gathered in the background while the tests run.
help_loop() {
	for a in $APPLETS; do
		case "$NOHELP" in *" $a "*) continue ;; esac
		case "$(busybox "$a" --help 2>&1 </dev/null)" in
		*"Usage: "*) echo "HELP|$a|ok" ;;
		*) echo "HELP|$a|none" ;;
		esac
	done
}
help_loop > "$WORK/help.out" 2>&1 &
help_pid=$!

# A private /etc (and /var, /run) to add users to: the container's own tmpfs folders.
if case "$ISOLATED" in "") false ;; esac && has cat && has printf; then
	cat > /etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/:/bin/false
nobody:x:65534:65534:nobody:/:/bin/false
EOF
	cat > /etc/group <<'EOF'
root:x:0:
daemon:x:1:
nogroup:x:65534:
EOF
	printf 'root::19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' > /etc/shadow
	chmod 600 /etc/shadow 2>/dev/null
	printf '/bin/sh\n/bin/ash\n' > /etc/shells
	mkdir -p /var/run /var/log /var/spool/cron/crontabs /var/lib /run 2>/dev/null
fi

# ---- shell
if (eval ': $((1))') 2>/dev/null; then  # arithmetic is a config option (FEATURE_SH_MATH)
	t sh "arithmetic" "42" <<'EOF'
sh -c 'echo $(( (6 * 7) % 100 ))'
EOF
fi
# The suite's own shell runs every test: `sh -c` runs the applet under test.
t sh "pipes, redirects, here-docs" "b" <<'EOF'
sh -c 'echo a > f1; echo b >> f1; { read x; read y; echo $y; } < f1'
EOF
t sh "functions, loops, exit status" "x-y 3" <<'EOF'
sh -c 'f() { echo "$1-$2"; }; n=0; for i in 1 2 3; do n=$i; done; sh -c "exit 3"; echo "$(f x y) $?"'
EOF
t ash "runs as ash" "ok" <<'EOF'
ash -c 'echo ok'
EOF
t hush "runs as hush" "ok" <<'EOF'
hush -c 'echo ok'
EOF
# ---- POSIX builtins that are also applets
# ash runs true and false as builtins: env runs the applets themselves.
t "true env" "exit 0" "0" <<'EOF'
env true; echo $?
EOF
t "false env" "exit 1" "1" <<'EOF'
env false; echo $?
EOF
# ash has test, [, [[, echo and printf built in: env runs the applets themselves, and each
# answer is one a stand-in (exit 0, exit 1, echo its arguments) cannot give.
t "test env" "string and number tests" "yes no" <<'EOF'
env test 3 -gt 2 && env test -n x && a=yes; env test 2 -gt 3 || b=no; echo "$a $b"
EOF
t "[ env" "bracket form" "yes no" <<'EOF'
env [ "a" = "a" ] && env [ ! -e /nonexistent ] && a=yes; env [ a = b ] || b=no; echo "$a $b"
EOF
t "[[ env" "double bracket form" "yes no" <<'EOF'
env [[ 5 -lt 7 ]] && a=yes; env [[ 7 -lt 5 ]] || b=no; echo "$a $b"
EOF
t "echo env" "prints arguments" "a b" <<'EOF'
env echo a b
EOF
t "printf env" "formats" "x=07 y=ab 3.5" <<'EOF'
env printf 'x=%02d y=%s %.1f\n' 7 ab 3.5
EOF
# ---- text tools
t awk "sums and fields" "5050 b" <<'EOF'
awk 'BEGIN { for (i = 1; i <= 100; i++) s += i; split("a:b:c", f, ":"); print s, f[2] }'
EOF
t "awk printf" "printf and regex" "2 lines, last=3x" <<'EOF'
printf '1x\n2\n3x\n' | awk '/x$/ { n++; last = $0 } END { printf "%d lines, last=%s\n", n, last }'
EOF
t "sed printf" "substitute and delete" "hello world" <<'EOF'
printf 'hello there\ndrop me\n' | sed -e 's/there/world/' -e '/drop/d'
EOF
t "grep printf" "match, count, invert" "2 1" <<'EOF'
printf 'apple\nbanana\napricot\n' > g; echo "$(grep -c ^ap g) $(grep -v ^ap g | grep -c .)"
EOF
t "egrep printf" "extended regex" "ab12" <<'EOF'
printf 'ab12\ncd\n' | egrep '[0-9]+'
EOF
t "fgrep printf" "fixed strings" "1" <<'EOF'
printf 'a.c\nabc\n' | fgrep -c 'a.c'
EOF
t "sort printf" "numeric and reverse" "10 9 1" <<'EOF'
echo $(printf '9\n10\n1\n' | sort -rn)
EOF
t "uniq printf" "counts" "2 a 1 b" <<'EOF'
echo $(printf 'a\na\nb\n' | uniq -c)
EOF
t tr "translate and delete" "HELLO wrld" <<'EOF'
echo "$(echo hello | tr a-z A-Z) $(echo world | tr -d o)"
EOF
t cut "fields and characters" "b cd" <<'EOF'
echo "$(echo a:b:c | cut -d: -f2) $(echo abcd | cut -c3-)"
EOF
t "wc printf" "lines, words, bytes" "2 3 12" <<'EOF'
echo $(printf 'one two\nsix\n' | wc -l -w -c)
EOF
t "head printf" "first lines" "1 2" <<'EOF'
echo $(printf '1\n2\n3\n' | head -n 2)
EOF
t "tail printf" "last lines" "2 3" <<'EOF'
echo $(printf '1\n2\n3\n' | tail -n 2)
EOF
t "tac printf" "reverse lines" "3 2 1" <<'EOF'
echo $(printf '1\n2\n3\n' | tac)
EOF
t rev "reverse characters" "olleh" <<'EOF'
echo hello | rev
EOF
t nl "number lines" "1 a" <<'EOF'
echo $(echo a | nl)
EOF
t "paste printf" "join lines" "a,b" <<'EOF'
printf 'a\nb\n' | paste -s -d,
EOF
t fold "wrap" "abc def" <<'EOF'
echo $(echo abcdef | fold -w 3)
EOF
t "expand printf" "tabs to spaces" "a       b" <<'EOF'
printf 'a\tb\n' | expand
EOF
t "comm printf" "common lines" "b" <<'EOF'
printf 'a\nb\n' > c1; printf 'b\nc\n' > c2; comm -12 c1 c2
EOF
t "diff printf grep" "unified diff" "-a +c" <<'EOF'
printf 'a\n' > d1; printf 'c\n' > d2; echo $(diff -u d1 d2 | grep '^[-+][ac]')
EOF
t cmp "identical and different" "0 1" <<'EOF'
echo x > m1; echo x > m2; echo y > m3; cmp -s m1 m2; a=$?; cmp -s m1 m3; echo "$a $?"
EOF
t "od printf" "hex dump" "61 62 63" <<'EOF'
echo $(printf abc | od -An -tx1)
EOF
t "hexdump printf head" "canonical dump" "00000000  61 62 63                                          |abc|" <<'EOF'
printf abc | hexdump -C | head -n 1
EOF
t "xxd printf" "hex and back" "616263 abc" <<'EOF'
echo "$(printf abc | xxd -p) $(printf abc | xxd -p | xxd -r -p)"
EOF
t "strings printf" "printable runs" "hello" <<'EOF'
printf '\001\002hello\000\003' > s1; strings s1
EOF
t "dos2unix printf wc awk" "line endings" "2" <<'EOF'
printf 'a\r\nb\r\n' > u1; dos2unix u1; wc -c < u1 | awk '{print $1 - 2}'
EOF
t "base64 printf" "encode and decode" "aGVsbG8= hello" <<'EOF'
echo "$(printf hello | base64) $(printf aGVsbG8= | base64 -d)"
EOF
t "uuencode head" "encode" "begin 644 f" <<'EOF'
echo hi | uuencode f | head -n 1
EOF
t expr "arithmetic and match" "7 3" <<'EOF'
echo "$(expr 3 + 4) $(expr abc : 'a.*')"
EOF
t seq "sequences" "1 3 5" <<'EOF'
echo $(seq 1 2 5)
EOF
t factor "factors" "84: 2 2 3 7" <<'EOF'
factor 84
EOF
t factor "factors 2^64-1 (64-bit arithmetic on every ISA)" "18446744073709551615: 3 5 17 257 641 65537 6700417" <<'EOF'
factor 18446744073709551615
EOF
t dc "reverse polish" "27" <<'EOF'
echo '3 4 5 + * p' | dc
EOF
t bc "arithmetic" "27" <<'EOF'
echo '3 * (4 + 5)' | bc
EOF
t "shuf seq sort" "permutation keeps lines" "1 2 3" <<'EOF'
echo $(seq 3 | shuf | sort)
EOF
t "tsort printf" "topological order" "a b c" <<'EOF'
echo $(printf 'a b\nb c\n' | tsort)
EOF
# ---- checksums: standard "abc" vectors
t "md5sum printf" "abc" "900150983cd24fb0d6963f7d28e17f72  -" <<'EOF'
printf abc | md5sum
EOF
t "sha1sum printf" "abc" "a9993e364706816aba3e25717850c26c9cd0d89d  -" <<'EOF'
printf abc | sha1sum
EOF
t "sha256sum printf" "abc" "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -" <<'EOF'
printf abc | sha256sum
EOF
t "sha512sum printf" "abc" "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f  -" <<'EOF'
printf abc | sha512sum
EOF
t "sha3sum printf" "abc (SHA3-224)" "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf  -" <<'EOF'
printf abc | sha3sum
EOF
t "cksum printf" "POSIX CRC" "1219131554 3" <<'EOF'
printf abc | cksum
EOF
t "sum printf" "BSD sum" "16556 1" <<'EOF'
echo $(printf abc | sum)
EOF
t "crc32 printf" "CRC-32" "352441c2" <<'EOF'
printf abc | crc32
EOF
# ---- files
t "cat printf" "concatenate" "ab" <<'EOF'
printf a > k1; printf 'b\n' > k2; cat k1 k2
EOF
t "touch [" "creates" "yes" <<'EOF'
touch t1 && [ -f t1 ] && echo yes
EOF
t "mkdir [" "parents" "yes" <<'EOF'
mkdir -p p/q/r && [ -d p/q/r ] && echo yes
EOF
t "rmdir mkdir [" "removes empty" "gone" <<'EOF'
mkdir e1 && rmdir e1 && [ ! -e e1 ] && echo gone
EOF
t "cp cat" "copies" "data" <<'EOF'
echo data > c3; cp c3 c4; cat c4
EOF
t "mv cat [" "renames" "data no" <<'EOF'
echo data > v1; mv v1 v2; echo "$(cat v2) $([ -e v1 ] && echo yes || echo no)"
EOF
t "rm [" "removes" "no" <<'EOF'
echo x > r1; rm r1; [ -e r1 ] && echo yes || echo no
EOF
t "ln cat" "symlink" "target" <<'EOF'
echo target > l1; ln -s l1 l2; cat l2
EOF
t "readlink ln" "reads links" "l1" <<'EOF'
echo x > l1; ln -sf l1 l3; readlink l3
EOF
t "realpath mkdir ln" "resolves dots and links" "rp rp" <<'EOF'
mkdir -p rp/sub; ln -s rp/sub link; a=$(realpath rp/sub/..); b=$(realpath link/..)
[ "$a" = "$(cd rp && pwd -P)" ] && echo "$(basename "$a") $(basename "$b")"
EOF
t "ls mkdir touch" "lists" "a b" <<'EOF'
mkdir lsdir; touch lsdir/a lsdir/b; echo $(ls lsdir)
EOF
t "chmod touch ls cut" "modes" "-rwxr-x---" <<'EOF'
touch cm; chmod 750 cm; ls -l cm | cut -c1-10
EOF
# Owners other than root's own: chown to root on a file root already owns would change nothing.
t "chown touch ls awk" "numeric owner and group" "1234 5678" <<'EOF'
touch co; chown 1234:5678 co; ls -ln co | awk '{print $3, $4}'
EOF
t "chown touch stat" "numeric owner, then back" "4321 0" <<'EOF'
touch co; chown 4321 co; a=$(stat -c %u co); chown 0 co; echo "$a $(stat -c %u co)"
EOF
t "stat printf" "size" "5" <<'EOF'
printf 12345 > st; stat -c %s st
EOF
t "du mkdir dd" "disk usage of a written file" "64 du1/f" <<'EOF'
mkdir du1; dd if=/dev/zero of=du1/f bs=1024 count=64 2>/dev/null; echo $(du -k du1/f)
EOF
t "du mkdir" "one block for a small file" "4 du1/f" <<'EOF'
mkdir du1; echo x > du1/f; echo $(du -k du1/f)
EOF
t "dd printf cat" "copies bytes" "abc" <<'EOF'
printf abcdef > dd1; dd if=dd1 of=dd2 bs=1 count=3 2>/dev/null; cat dd2; echo
EOF
t "truncate wc" "sets size" "10" <<'EOF'
truncate -s 10 tr1; wc -c < tr1
EOF
t "split mkdir printf ls" "pieces" "xaa xab" <<'EOF'
mkdir sp; cd sp; printf '1\n2\n' | split -l 1; echo $(ls)
EOF
t "find mkdir touch" "name and type" "./fd/x.c" <<'EOF'
mkdir -p fd/sub; touch fd/x.c fd/y.h; find ./fd -name '*.c' -type f
EOF
t "xargs printf sh" "builds command lines" "a b c" <<'EOF'
printf 'a\nb\nc\n' | xargs sh -c 'echo "$@"' sh
EOF
t "find xargs mkdir touch ls wc" "exec and pipes" "2" <<'EOF'
mkdir -p fx; touch fx/1 fx/2; find fx -type f | xargs ls | wc -l
EOF
t "mktemp [" "makes a file" "yes" <<'EOF'
f=$(mktemp -p .) && [ -f "$f" ] && echo yes
EOF
t "tee cat" "copies stdin" "x x" <<'EOF'
echo x | tee te1 > te2; echo "$(cat te1) $(cat te2)"
EOF
t basename "strips dirs and suffix" "file" <<'EOF'
basename /a/b/file.txt .txt
EOF
t dirname "parent" "/a/b" <<'EOF'
dirname /a/b/file.txt
EOF
t "patch printf cat" "applies a diff" "new" <<'EOF'
echo old > pa; printf -- '--- pa\n+++ pa\n@@ -1 +1 @@\n-old\n+new\n' > pa.diff; patch -p0 < pa.diff > /dev/null; cat pa
EOF
# ---- archives: round trips
t "tar gzip mkdir cat" "tar + gzip round trip" "hello" <<'EOF'
mkdir -p ar/in; echo hello > ar/in/f; tar -C ar -cf - in | gzip > ar.tgz; mkdir ar/out; gzip -dc ar.tgz | tar -C ar/out -xf -; cat ar/out/in/f
EOF
t "tar gzip mkdir cat" "tar z flag" "hello" <<'EOF'
mkdir -p tz/in; echo hello > tz/in/f; tar -C tz -czf tz.tgz in; mkdir tz/out; tar -C tz/out -xzf tz.tgz; cat tz/out/in/f
EOF
t "gunzip gzip cat" "decompresses" "data" <<'EOF'
echo data > gu; gzip gu; gunzip gu.gz; cat gu
EOF
t "zcat gzip" "reads gzip" "data" <<'EOF'
echo data | gzip > zc.gz; zcat zc.gz
EOF
t "bzip2 bunzip2" "bzip2 round trip" "data" <<'EOF'
echo data | bzip2 | bunzip2
EOF
t "bzcat bzip2" "reads bzip2" "data" <<'EOF'
echo data | bzip2 > b.bz2; bzcat b.bz2
EOF
t "cpio mkdir cat" "archive round trip" "x" <<'EOF'
mkdir cp1; cd cp1; echo x > f; echo f | cpio -o -H newc 2>/dev/null > ../a.cpio; cd ..; mkdir cp2; cd cp2; cpio -i < ../a.cpio 2>/dev/null; cat f
EOF
t "lzop" "round trip" "data" <<'EOF'
echo data | lzop | lzop -d
EOF
# ---- system information that needs no privileges
# The expected machine comes from musltool's ISA table, never from the applet under test.
when '[ -n "$MACHINE" ]' t uname "machine, as the ISA table says" "$MACHINE" <<'EOF'
uname -m
EOF
when '[ -n "$MACHINE" ]' t arch "machine, as the ISA table says" "$MACHINE" <<'EOF'
arch
EOF
t date "date -d" "1970-01-01 946782245" <<'EOF'
echo "$(date -u -d @0 +%Y-%m-%d) $(date -u -d '2000-01-02 03:04:05' +%s)"
EOF
t "env sh" "sets variables" "v=1" <<'EOF'
env v=1 sh -c 'echo v=$v'
EOF
t printenv "prints a variable" "ab" <<'EOF'
X=ab printenv X
EOF
# Measured against the clock: a sleep that returns at once ends in the same second or the
# next, never two later.
t "sleep date" "takes its time" "slept" <<'EOF'
a=$(date +%s); sleep 2; b=$(date +%s); [ $((b - a)) -ge 2 ] && echo slept
EOF
t "usleep date" "takes its time" "slept" <<'EOF'
a=$(date +%s); usleep 2000000; b=$(date +%s); [ $((b - a)) -ge 2 ] && echo slept
EOF
tbg "timeout sh sleep" "kills slow commands" "143" <<'EOF'
sh -c 'timeout 1 sleep 5; echo $?' 2>/dev/null
EOF
t "nproc [" "counts CPUs" "yes" <<'EOF'
[ "$(nproc)" -ge 1 ] && echo yes
EOF
t "id touch stat" "the owner of a new file" "same same" <<'EOF'
touch mine; [ "$(id -u)" = "$(stat -c %u mine)" ] && a=same; [ "$(id -g)" = "$(stat -c %g mine)" ] && echo "$a same"
EOF
t "which ls" "finds applets" "yes" <<'EOF'
case "$(which ls)" in */ls) echo yes ;; esac
EOF
t "ps sleep kill grep" "lists a process it did not start" "yes" <<'EOF'
sleep 3 & pid=$!; started $pid sleep; ps > pso; kill $pid; grep -q sleep pso && echo yes
EOF
t "kill env sleep" "signals a process" "143" <<'EOF'
sleep 30 & pid=$!; env kill $pid; gone $pid; wait $pid 2>/dev/null; echo $?
EOF
t "yes head" "repeats" "y y" <<'EOF'
echo $(yes | head -n 2)
EOF
t "hostname cat" "the kernel's host name" "same" <<'EOF'
h=$(hostname); [ -n "$h" ] && [ "$h" = "$(cat /proc/sys/kernel/hostname)" ] && echo same
EOF
# (A 32-bit program under qemu-user gets sysinfo's byte counts cut to 32 bits.)
t "free awk" "total memory, as the kernel says" "same" <<'EOF'
a=$(free | awk '/^Mem/ {print $2}'); b=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)
c=$(awk -v b="$b" 'BEGIN { print b * 1024 % 4294967296 / 1024 }')  # not $(( )): ash may count in 32 bits
[ -n "$a" ] && { [ "$a" = "$b" ] || [ "$a" = "$c" ]; } && echo same
EOF
t "uptime grep" "load averages" "yes" <<'EOF'
uptime | grep -q load && echo yes
EOF
t "df grep" "filesystems" "yes" <<'EOF'
df . | grep -q / && echo yes
EOF
t mountpoint "root is a mount point" "/ is a mountpoint" <<'EOF'
mountpoint /
EOF
t getopt "parses options" "-a -b x --" <<'EOF'
echo $(getopt ab: -a -b x)
EOF
t "ascii grep" "prints the ASCII table" "yes" <<'EOF'
ascii | grep -q NUL && echo yes
EOF
t "linux32 sh" "runs a command with a 32-bit personality" "ok" <<'EOF'
linux32 sh -c 'echo ok'
EOF
t "linux64 sh" "runs a command with a 64-bit personality" "ok" <<'EOF'
linux64 sh -c 'echo ok'
EOF
t "tree mkdir grep" "draws a folder" "yes" <<'EOF'
mkdir -p tree1/leaf; tree tree1 | grep -q leaf && echo yes
EOF
t pipe_progress "passes data through" "data" <<'EOF'
echo data | pipe_progress 2>/dev/null
EOF
t less "pages a file" "line" <<'EOF'
echo line > lf; less lf
EOF
t more "pages a file" "line" <<'EOF'
echo line > mf; more mf
EOF

# ---- more text tools
t "base32 printf" "encode and decode" "NBSWY3DP hello" <<'EOF'
echo "$(printf hello | base32) $(printf NBSWY3DP | base32 -d)"
EOF
t "cal head" "a month" "   February 2024" <<'EOF'
cal 2 2024 | head -n 1
EOF
t "hd printf head" "canonical dump" "00000000  61 62 63                                          |abc|" <<'EOF'
printf abc | hd | head -n 1
EOF
t "unexpand printf tr" "spaces to tabs" "Ta" <<'EOF'
printf '        a\n' | unexpand -a | tr '\t' T
EOF
t "unix2dos printf od" "line endings" "a \r \n" <<'EOF'
echo $(printf 'a\n' | unix2dos | od -An -c)
EOF
t "ed printf cat" "edits a file from a script" "hello world" <<'EOF'
printf 'hello there\n' > f; printf ',s/there/world/\nw\nq\n' | ed f >/dev/null; cat f
EOF
t "ipcalc" "network and broadcast" "BROADCAST=192.168.1.255 NETWORK=192.168.1.0" <<'EOF'
echo $(ipcalc -n -b 192.168.1.7/24)
EOF
# The blocks read back: rm alone would pass "gone"; shred must have overwritten them first.
t "shred printf od" "overwrites with zeros, then removes" "00 00 00 00 00 00 gone" <<'EOF'
printf secret > s; shred -z -n 1 s; z=$(echo $(od -An -tx1 s)); shred -u s; [ ! -e s ] && echo "$z gone"
EOF
t "ts date" "timestamps lines" "yes" <<'EOF'
[ "$(echo x | ts %Y)" = "$(date +%Y) x" ] && echo yes
EOF
t "uudecode uuencode cat" "round trip" "data" <<'EOF'
echo data > u; uuencode u u > u.uu; rm u; uudecode u.uu; cat u
EOF
t "xxd printf" "plain dump" "00000000: 6162 63                                  abc" <<'EOF'
printf abc | xxd
EOF
t "makemime reformime grep" "MIME round trip" "body text" <<'EOF'
echo 'body text' > b; makemime -c text/plain b > mail; reformime -x part- < mail; cat part-*
EOF
t "mkpasswd" "SHA-512 crypt with a given salt" '$6$musltool$brFo2gaP443aIBUDi5frsPQx/UyV5c7UfhU1MuxJxQqC7vMr9TlD8xMdtgHEPr1.w91POsODfEdK0D7N5OxWc/' <<'EOF'
mkpasswd -m sha512 secret musltool
EOF
t "cryptpw" "MD5 crypt with a given salt" '$1$musltool$jL2uCPYm2bP3/Y94GnaDR/' <<'EOF'
cryptpw -m md5 secret musltool
EOF
when 'usage vi "-c CMD"' t "vi printf cat" "edits a file from commands" "b" <<'EOF'
echo a > f; vi -c ':%s/a/b/' -c ':wq' f >/dev/null 2>&1; cat f
EOF
# ---- archives and compressed data (files from suite-data)
t "unzip cat" "extracts a zip" "hello from the suite" <<'EOF'
unzip -q "$DATA/hello.zip"; cat hello.txt
EOF
t "unxz" "decompresses xz" "hello from the suite" <<'EOF'
unxz -c "$DATA/hello.txt.xz"
EOF
t "xzcat" "reads xz" "hello from the suite" <<'EOF'
xzcat "$DATA/hello.txt.xz"
EOF
t "xz" "decompresses with -d" "hello from the suite" <<'EOF'
xz -dc "$DATA/hello.txt.xz"
EOF
t "unlzma" "decompresses lzma" "hello from the suite" <<'EOF'
unlzma -c "$DATA/hello.txt.lzma"
EOF
t "lzcat" "reads lzma" "hello from the suite" <<'EOF'
lzcat "$DATA/hello.txt.lzma"
EOF
t "lzma" "decompresses with -d" "hello from the suite" <<'EOF'
lzma -dc "$DATA/hello.txt.lzma"
EOF
t "dpkg-deb grep" "lists, reads and extracts a .deb" "./usr/share/musltool-suite.txt Package: musltool-suite hello from the suite" <<'EOF'
l=$(dpkg-deb -c "$DATA/hello.deb" | grep -o './usr/share/musltool-suite.txt'); f=$(dpkg-deb -f "$DATA/hello.deb" | grep -o 'Package: musltool-suite')
dpkg-deb -x "$DATA/hello.deb" out; echo "$l $f $(cat out/usr/share/musltool-suite.txt)"
EOF
# ---- files and file systems in image files
t "chgrp touch stat" "numeric group" "4321" <<'EOF'
touch g; chgrp 4321 g; stat -c %g g
EOF
t "install stat" "copies with a mode" "640 x" <<'EOF'
echo x > src; install -m 640 src dst; echo "$(stat -c %a dst) $(cat dst)"
EOF
t "link stat" "hard link" "2" <<'EOF'
echo x > a; link a b; stat -c %h a
EOF
t "unlink link [" "removes a name" "1 no" <<'EOF'
echo x > a; link a b; unlink b; echo "$(stat -c %h a) $([ -e b ] && echo yes || echo no)"
EOF
t "mkfifo [" "named pipe" "yes" <<'EOF'
mkfifo p && [ -p p ] && echo yes
EOF
t "mknod stat" "character device node" "1,3" <<'EOF'
mknod nul c 1 3 && stat -c %t,%T nul
EOF
t "fallocate stat" "preallocates" "8192" <<'EOF'
fallocate -l 8192 fa; stat -c %s fa
EOF
t "fsync" "flushes a file" "0" <<'EOF'
echo x > fs; fsync fs; echo $?
EOF
t "sync" "flushes file systems" "0" <<'EOF'
sync; echo $?
EOF
t "readahead" "reads a file into the cache" "0" <<'EOF'
echo x > ra; readahead ra; echo $?
EOF
t "flock sh" "locks, and a second locker waits or fails" "locked busy" <<'EOF'
flock lk -c 'echo locked; flock -n lk -c true || echo busy' 2>/dev/null | xargs
EOF
t "run-parts mkdir printf chmod" "runs each script in order" "one two" <<'EOF'
mkdir rp; printf '#!/bin/sh\necho one\n' > rp/10a; printf '#!/bin/sh\necho two\n' > rp/20b; chmod +x rp/*; echo $(run-parts rp)
EOF
t "chroot" "runs a command with another root" "ok" <<'EOF'
chroot / echo ok
EOF
t "setfattr getfattr touch" "extended attributes" "blue" <<'EOF'
touch x; setfattr -n user.colour -v blue x && getfattr -n user.colour x | sed -n 's/^user.colour="\(.*\)"$/\1/p'
EOF
t "makedevs printf stat" "makes nodes from a table" "1,3 755" <<'EOF'
printf '/dev d 755 0 0 - - - - -\n/dev/null c 666 0 0 1 3 0 0 -\n' > table; mkdir root; makedevs -d "$PWD/table" root >/dev/null; echo "$(stat -c %t,%T root/dev/null) $(stat -c %a root/dev)"
EOF
t "mkfs.vfat dd blkid" "FAT image" 'TYPE="vfat"' <<'EOF'
dd if=/dev/zero of=v.img bs=1k count=2048 2>/dev/null; mkfs.vfat v.img >/dev/null; blkid v.img | grep -o 'TYPE="vfat"'
EOF
t "mkdosfs dd blkid" "FAT image" 'TYPE="vfat"' <<'EOF'
dd if=/dev/zero of=d.img bs=1k count=2048 2>/dev/null; mkdosfs d.img >/dev/null; blkid d.img | grep -o 'TYPE="vfat"'
EOF
t "mke2fs dd blkid" "ext2 image" 'TYPE="ext2"' <<'EOF'
dd if=/dev/zero of=e.img bs=1k count=4096 2>/dev/null; mke2fs -F e.img >/dev/null 2>&1; blkid e.img | grep -o 'TYPE="ext2"'
EOF
t "mkfs.ext2 dd blkid" "ext2 image" 'TYPE="ext2"' <<'EOF'
dd if=/dev/zero of=e.img bs=1k count=4096 2>/dev/null; mkfs.ext2 -F e.img >/dev/null 2>&1; blkid e.img | grep -o 'TYPE="ext2"'
EOF
t "mkswap dd blkid" "swap area" 'TYPE="swap"' <<'EOF'
dd if=/dev/zero of=s.img bs=1k count=1024 2>/dev/null; mkswap s.img >/dev/null; blkid s.img | grep -o 'TYPE="swap"'
EOF
t "blkid dd mkswap" "labels and UUIDs" 'LABEL="musl"' <<'EOF'
dd if=/dev/zero of=s.img bs=1k count=1024 2>/dev/null; mkswap -L musl s.img >/dev/null; blkid s.img | grep -o 'LABEL="musl"'
EOF
# The superblock's magic number read back (0x138f: minix v1, 30-character names), and a
# damaged one found.
# The minix superblock's magic 0x138f is in the machine's byte order (Linux reads it so).
case "$ENDIAN" in big) MINIX_MAGIC="13 8f" ;; *) MINIX_MAGIC="8f 13" ;; esac
t "mkfs.minix dd od head" "minix image" "352 inodes 1024 blocks $MINIX_MAGIC" <<'EOF'
dd if=/dev/zero of=m.img bs=1k count=1024 2>/dev/null; echo $(mkfs.minix m.img | head -n 2) $(od -An -tx1 -j 1040 -N 2 m.img)
EOF
t "fsck.minix dd mkfs.minix printf" "passes a clean image, fails a damaged one" "0 8" <<'EOF'
dd if=/dev/zero of=m.img bs=1k count=1024 2>/dev/null; mkfs.minix m.img >/dev/null; fsck.minix m.img >/dev/null; a=$?
printf '\000' | dd of=m.img bs=1 seek=1040 conv=notrunc 2>/dev/null; fsck.minix m.img >/dev/null 2>&1; echo "$a $?"
EOF
tbg "fdisk dd printf grep" "partitions an image file" "img1" <<'EOF'
dd if=/dev/zero of=disk.img bs=1k count=4096 2>/dev/null; printf 'n\np\n1\n\n\nw\n' | fdisk -C 64 -H 4 -S 32 disk.img >/dev/null 2>&1; fdisk -l disk.img | grep -o 'img1'
EOF
# ---- processes, scheduling, resources
t "nice" "runs with a niceness" "5" <<'EOF'
nice -n 5 nice
EOF
tbg "renice sleep cut" "changes a niceness" "7" <<'EOF'
sleep 30 & p=$!; renice -n 7 -p $p >/dev/null; cut -d' ' -f19 /proc/$p/stat; kill $p 2>/dev/null
EOF
t "chrt grep" "scheduling policy" "SCHED_OTHER" <<'EOF'
chrt -p $$ | grep -o SCHED_OTHER
EOF
t "taskset sh" "CPU affinity" "1" <<'EOF'
taskset 1 sh -c 'taskset -p $$' | sed 's/.*: //'
EOF
t "ionice sh" "I/O class" "idle" <<'EOF'
ionice -c 3 sh -c ionice
EOF
# A real SIGHUP: the command sends one to itself and lives on only under nohup.
t "nohup sh" "runs immune to hangups" "survived" <<'EOF'
nohup sh -c 'kill -HUP $$; echo survived' 2>/dev/null
EOF
t "setsid sh cut" "new session" "yes" <<'EOF'
setsid sh -c '[ "$(cut -d" " -f6 /proc/$$/stat)" = "$$" ] && echo yes'
EOF
t "time sleep awk" "times a command it ran" "ok" <<'EOF'
time -p sleep 1 2> tm; awk '/^real/ { print ($2 >= 1) ? "ok" : "too short" }' tm
EOF
t "pgrep sleep" "finds by command line" "yes" <<'EOF'
sleep 71 & p=$!; started $p sleep; [ "$(pgrep -f 'sleep 71$')" = "$p" ] && echo yes; kill $p 2>/dev/null
EOF
# Signalling by name or command line touches every process of the session: only where the
# session has its own PID namespace (a container, a booted system), never on a host. The
# sleep is stopped by the test itself when the applet failed to, after 2 seconds.
tiso "pkill sleep" "signals by command line" "143" <<'EOF'
sleep 72 & p=$!; started $p sleep; pkill -f 'sleep 72$'; gone $p; { wait $p; } 2>/dev/null; echo $?
EOF
t "pidof sleep" "finds by program name" "yes" <<'EOF'
sleep 73 & p=$!; started $p sleep; case " $(pidof sleep) " in *" $p "*) echo yes ;; esac; kill $p 2>/dev/null
EOF
tiso "killall sleep" "signals by program name" "143" <<'EOF'
sleep 74 & p=$!; started $p sleep; killall sleep; gone $p; { wait $p; } 2>/dev/null; echo $?
EOF
tbg "pwdx" "working folder of a process" "yes" <<'EOF'
sleep 30 & p=$!; [ "$(pwdx $p)" = "$p: $(pwd)" ] && echo yes; kill $p 2>/dev/null
EOF
t "pmap grep" "memory map" "total" <<'EOF'
sleep 30 & p=$!; pmap -x $p | grep -o '^total'; kill $p 2>/dev/null
EOF
t "pstree grep" "process tree" "pstree" <<'EOF'
pstree -p $$ | grep -o pstree | head -n 1
EOF
tbg "fuser sleep" "who uses a file" "yes" <<'EOF'
sleep 30 < /dev/null > fu & p=$!; sleep 0.2; case " $(fuser fu 2>/dev/null) " in *" $p"*) echo yes ;; esac; kill $p 2>/dev/null
EOF
tbg "lsof sleep grep" "open files" "yes" <<'EOF'
sleep 30 > lsoffile & p=$!; sleep 0.2; lsof | grep -q "^$p.*lsoffile" && echo yes; kill $p 2>/dev/null
EOF
t "top grep" "one batch screen" "PID" <<'EOF'
top -b -n 1 | grep -o PID | head -n 1
EOF
t "iostat grep" "CPU statistics" "avg-cpu" <<'EOF'
iostat -c | grep -o avg-cpu
EOF
t "mpstat grep" "per-CPU statistics" "%usr" <<'EOF'
mpstat | grep -o '%usr'
EOF
t "nmeter head wc" "samples at an interval" "2" <<'EOF'
nmeter -d 100 '%t' 2>/dev/null | head -n 2 | wc -l
EOF
t "smemcap tar grep" "captures process memory" "yes" <<'EOF'
smemcap 2>/dev/null | tar -t 2>/dev/null | grep -q smaps && echo yes
EOF
tbg "watch grep" "reruns a command" "hi" <<'EOF'
watch -n 1 -t echo hi > w 2>/dev/null & p=$!
# up to 10 s for the first run (a loaded machine starts qemu slowly), not a fixed 1.5 s
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do grep -q hi w && break; sleep 0.5; done
kill $p; grep -o hi w | head -n 1
EOF
t "sysctl" "reads a kernel setting" "Linux" <<'EOF'
sysctl -n kernel.ostype
EOF
t "setpriv grep" "shows process privileges" "uid" <<'EOF'
setpriv --dump | grep -o '^uid' 
EOF
t "tty" "not a terminal" "not a tty 1" <<'EOF'
r=$(tty); echo "$r $?"
EOF
t "clear od" "clears the screen" "033 [ H 033 [ J" <<'EOF'
echo $(clear | od -An -c)
EOF
tbg "start-stop-daemon sleep cat" "starts and stops a daemon" "running stopped" <<'EOF'
start-stop-daemon -S -b -m -p pidf -x /bin/sleep -- 30
sleep 1; kill -0 "$(cat pidf)" && r=running
start-stop-daemon -K -p pidf >/dev/null; sleep 1; kill -0 "$(cat pidf)" 2>/dev/null || s=stopped
echo "$r $s"
EOF
t "crontab" "installs and lists a table" "* * * * * true" <<'EOF'
mkdir cr; echo '* * * * * true' | crontab -c cr -u root -; crontab -c cr -u root -l
EOF
t "hostid grep" "host id" "yes" <<'EOF'
hostid | grep -q '^[0-9a-f]\{8\}$' && echo yes
EOF
t "seedrng ls" "saves a random seed" "seed.credit" <<'EOF'
seedrng -d seeds -n >/dev/null 2>&1; ls seeds
EOF
# ---- runit and daemontools-style supervision
t "envdir printenv" "environment from a folder" "value" <<'EOF'
mkdir e; echo value > e/FOO; envdir e printenv FOO
EOF
t "chpst nice" "changes niceness" "4" <<'EOF'
chpst -n 4 nice
EOF
t "softlimit sh" "limits open files" "9" <<'EOF'
softlimit -o 9 sh -c 'ulimit -n'
EOF
t "svlogd cat" "logs lines to a folder" "line one" <<'EOF'
mkdir lg; echo 'line one' | svlogd lg; cat lg/current
EOF
tbg "runsv sv mkdir printf chmod" "supervises a service" "run" <<'EOF'
mkdir -p svc/x; printf '#!/bin/sh\nexec sleep 100\n' > svc/x/run; chmod +x svc/x/run
runsv svc/x & p=$!; sleep 1; sv status ./svc/x | cut -d: -f1; sv exit ./svc/x >/dev/null; wait $p
EOF
tbg "sv runsv mkdir printf chmod" "stops a service" "down" <<'EOF'
mkdir -p svc/x; printf '#!/bin/sh\nexec sleep 100\n' > svc/x/run; chmod +x svc/x/run
runsv svc/x & p=$!; sleep 1; sv down ./svc/x >/dev/null; sleep 1; sv status ./svc/x | cut -d: -f1; sv exit ./svc/x >/dev/null; wait $p
EOF
tbg "svok runsv mkdir printf chmod" "sees a running supervisor" "ok" <<'EOF'
mkdir -p svc/x; printf '#!/bin/sh\nexec sleep 100\n' > svc/x/run; chmod +x svc/x/run
runsv svc/x & p=$!; sleep 1; svok ./svc/x && echo ok; sv exit ./svc/x >/dev/null; wait $p
EOF
tbg "svc runsv sv mkdir printf chmod" "daemontools-style control" "down" <<'EOF'
mkdir -p svc/x; printf '#!/bin/sh\nexec sleep 100\n' > svc/x/run; chmod +x svc/x/run
runsv svc/x & p=$!; sleep 1; svc -d ./svc/x; sleep 1; sv status ./svc/x | cut -d: -f1; sv exit ./svc/x >/dev/null; wait $p
EOF
tbg "runsvdir sv mkdir printf chmod" "starts a supervisor per service" "run" <<'EOF'
mkdir -p all/x; printf '#!/bin/sh\nexec sleep 100\n' > all/x/run; chmod +x all/x/run
runsvdir "$PWD/all" & p=$!; sleep 1.5; sv status ./all/x | cut -d: -f1; kill -HUP $p; sleep 1; sv exit ./all/x >/dev/null
EOF
# ---- users and groups (only where /etc is the session's own)
tiso "whoami" "the user's name" "root" <<'EOF'
whoami
EOF
tiso "groups" "the user's groups" "root" <<'EOF'
groups
EOF
tiso "addgroup adduser id" "adds a group and a user" "uid=2000(alice) gid=2000(crew) groups=2000(crew)" <<'EOF'
addgroup -g 2000 crew; adduser -D -H -G crew -u 2000 alice; id alice
EOF
tiso "deluser addgroup adduser grep" "removes a user that was there" "1 0" <<'EOF'
addgroup -g 2001 bob; adduser -D -H -G bob -u 2001 bob; a=$(grep -c '^bob:' /etc/passwd); deluser bob; echo "$a $(grep -c '^bob:' /etc/passwd)"
EOF
tiso "delgroup addgroup grep" "removes a group that was there" "1 0" <<'EOF'
addgroup -g 2002 band; a=$(grep -c '^band:' /etc/group); delgroup band; echo "$a $(grep -c '^band:' /etc/group)"
EOF
tiso "chpasswd adduser grep" "sets passwords from input" "1" <<'EOF'
adduser -D -H -u 2003 carol; echo 'carol:secret' | chpasswd -m 2>/dev/null; grep -c '^carol:\$1\$' /etc/shadow
EOF
tiso "passwd adduser grep" "deletes a password" "1" <<'EOF'
adduser -D -H -u 2004 dave; echo 'dave:x' | chpasswd 2>/dev/null; passwd -d dave >/dev/null 2>&1; grep -c '^dave::' /etc/shadow
EOF
tiso "su" "runs a command as another user" "65534" <<'EOF'
su -s /bin/sh -c 'id -u' nobody
EOF
tiso "setuidgid id" "runs a command as a user" "65534" <<'EOF'
setuidgid nobody id -u
EOF
tiso "envuidgid printenv" "exports a user's ids" "65534" <<'EOF'
envuidgid nobody printenv UID
EOF
tiso "add-shell grep" "adds a login shell" "1" <<'EOF'
add-shell /bin/hush; grep -c '^/bin/hush$' /etc/shells
EOF
tiso "remove-shell add-shell grep" "removes a login shell" "0" <<'EOF'
add-shell /bin/hush; remove-shell /bin/hush; grep -c '^/bin/hush$' /etc/shells
EOF
# ---- logging (private /dev/log and shared memory in the session)
# syslogd needs a moment to bind /dev/log: a message is sent again until it arrived (at most
# 10 s), and each syslogd is waited for after kill, so that the next test starts clean.
tiso "syslogd logger logread grep head" "logs to a file" "hello log" <<'EOF'
syslogd -n -O "$PWD/msgs" 2>/dev/null & p=$!
poll "grep -q 'hello log' msgs" "logger -t tag 'hello log'"
kill $p; wait $p 2>/dev/null; grep -o 'hello log' msgs | head -n 1
EOF
tiso "logger syslogd grep head" "sends a message" "from logger" <<'EOF'
syslogd -n -O "$PWD/msgs" 2>/dev/null & p=$!
poll "grep -q 'from logger' msgs" "logger 'from logger'"
kill $p; wait $p 2>/dev/null; grep -o 'from logger' msgs | head -n 1
EOF
tiso "logread syslogd logger grep head" "reads the shared buffer" "in the ring" <<'EOF'
syslogd -n -C16 2>/dev/null & p=$!
poll "logread | grep -q 'in the ring'" "logger 'in the ring'"
logread | grep -o 'in the ring' | head -n 1; kill $p; wait $p 2>/dev/null
EOF
tiso "ipcs syslogd grep" "shows shared memory" "yes" <<'EOF'
syslogd -n -C16 2>/dev/null & p=$!
poll 'ipcs -m | grep -q 0x'
ipcs -m | grep -q 0x && echo yes; kill $p; wait $p 2>/dev/null
EOF
tiso "ipcrm syslogd ipcs grep sed" "removes shared memory" "0" <<'EOF'
syslogd -n -C16 2>/dev/null & p=$!
poll 'ipcs -m | grep -q 0x'
kill -9 $p; wait $p 2>/dev/null
for id in $(ipcs -m | sed -n 's/^0x[0-9a-f]* *\([0-9]*\).*/\1/p'); do ipcrm -m "$id"; done
ipcs -m | grep -c '^0x'
EOF
# ---- networking on the session's own loopback
tiso "ifconfig grep" "shows an interface" "127.0.0.1" <<'EOF'
ifconfig lo | grep -o '127.0.0.1' | head -n 1
EOF
tnetlink "ip grep" "shows addresses" "inet 127.0.0.1" <<'EOF'
ip addr show lo | grep -o 'inet 127.0.0.1'
EOF
tnetlink "ipaddr grep" "shows addresses" "inet 127.0.0.1" <<'EOF'
ipaddr show lo | grep -o 'inet 127.0.0.1'
EOF
tnetlink "iplink grep" "shows links" "LOOPBACK" <<'EOF'
iplink show lo | grep -o LOOPBACK
EOF
tnetlink "iproute grep" "shows routes" "127.0.0.1" <<'EOF'
iproute show table local | grep -o '127.0.0.1' | head -n 1
EOF
tnative "iprule grep" "shows rules" "lookup local" <<'EOF'
iprule show | grep -o 'lookup local'
EOF
tiso "route head" "routing table" "Kernel IP routing table" <<'EOF'
route -n | head -n 1
EOF
when 'usage ping "-c CNT"' tbgiso "ping grep" "answers on loopback" "1 packets received" <<'EOF'
ping -c 1 -W 2 127.0.0.1 | grep -o '1 packets received'
EOF
when '! usage ping "-c CNT"' tbgiso "ping" "small ping answers on loopback" "127.0.0.1 is alive!" <<'EOF'
ping 127.0.0.1
EOF
tbgiso "traceroute grep" "one hop to loopback" "127.0.0.1" <<'EOF'
traceroute -n -m 1 -q 1 127.0.0.1 2>/dev/null | grep -o '127.0.0.1' | head -n 1
EOF
tbgiso "nc cat" "sends and receives" "over tcp" <<'EOF'
nc -l -p 2301 > got & p=$!; listening 2301; echo 'over tcp' | nc 127.0.0.1 2301; wait $p; cat got
EOF
# whether the port is listed, not how often: one CI run on aarch64 listed it twice (not seen again)
tbgiso "netstat nc grep" "lists listening sockets" "listed" <<'EOF'
nc -l -p 2302 >/dev/null 2>&1 & p=$!; listening 2302; netstat -ltn | grep -q ':2302 ' && echo listed; kill $p 2>/dev/null
EOF
tbgiso "tcpsvd nc" "runs a program per TCP connection" "served" <<'EOF'
tcpsvd -E 127.0.0.1 2303 echo served & p=$!; listening 2303; nc 127.0.0.1 2303 </dev/null; kill $p 2>/dev/null
EOF
tbgiso "udpsvd nc" "runs a program per UDP client" "served" <<'EOF'
udpsvd -E 127.0.0.1 2304 echo served & p=$!; listening 2304; echo x | nc -u -w 1 127.0.0.1 2304; kill $p 2>/dev/null
EOF
tbgiso "httpd wget mkdir" "serves a page" "page" <<'EOF'
mkdir www; echo page > www/index.html; httpd -f -p 127.0.0.1:2305 -h www & p=$!; listening 2305; wget -q -O - http://127.0.0.1:2305/; kill $p 2>/dev/null
EOF
tbgiso "wget httpd mkdir" "downloads a file" "payload" <<'EOF'
mkdir www; echo payload > www/f.txt; httpd -f -p 127.0.0.1:2306 -h www & p=$!; listening 2306; wget -q http://127.0.0.1:2306/f.txt; kill $p; cat f.txt
EOF
tbgiso "ftpget tcpsvd ftpd mkdir" "downloads over FTP" "via ftp" <<'EOF'
mkdir root; echo 'via ftp' > root/f; tcpsvd -E 127.0.0.1 2307 ftpd -A -w root & p=$!; listening 2307
ftpget -P 2307 127.0.0.1 got f; kill $p; cat got
EOF
tbgiso "ftpput tcpsvd ftpd mkdir" "uploads over FTP" "sent up" <<'EOF'
mkdir root; echo 'sent up' > up; tcpsvd -E 127.0.0.1 2308 ftpd -A -w root & p=$!; listening 2308
ftpput -P 2308 127.0.0.1 up up; kill $p; cat root/up
EOF
tbgiso "ftpd tcpsvd ftpget mkdir" "serves files" "served by ftpd" <<'EOF'
mkdir root; echo 'served by ftpd' > root/f; tcpsvd -E 127.0.0.1 2309 ftpd -A root & p=$!; listening 2309
ftpget -P 2309 127.0.0.1 got f; kill $p; cat got
EOF
# tftp resends a request after 100 ms; on a slow (emulated) machine udpsvd may hand the resent
# one to a second tftpd, which truncates the file the first is writing: a transfer that left
# nothing is tried again.
tbgiso "tftp udpsvd tftpd mkdir" "downloads over TFTP" "via tftp" <<'EOF'
mkdir root; echo 'via tftp' > root/f; udpsvd -E 127.0.0.1 2310 tftpd root 2>/dev/null & p=$!; listening 2310
for try in 1 2 3; do tftp -g -r f -l got 127.0.0.1 2310 2>/dev/null; [ -s got ] && break; done; kill $p; cat got
EOF
tbgiso "tftpd udpsvd tftp mkdir" "accepts uploads" "sent by tftp" <<'EOF'
mkdir root; echo 'sent by tftp' > up; udpsvd -E 127.0.0.1 2311 tftpd -c root 2>/dev/null & p=$!; listening 2311
for try in 1 2 3 4 5; do tftp -p -l up -r up 127.0.0.1 2311 2>/dev/null; sleep 1; [ -s root/up ] && break; done; kill $p; cat root/up
EOF
tbgiso "inetd nc printf" "starts a service per connection" "from inetd" <<'EOF'
printf '2312 stream tcp nowait root /bin/echo echo from inetd\n' > conf; inetd -f conf & p=$!; listening 2312
nc 127.0.0.1 2312 </dev/null; kill $p 2>/dev/null
EOF
tbgiso "dnsd nslookup grep" "answers DNS queries" "192.0.2.9" <<'EOF'
echo 'musl.test 192.0.2.9' > dnsd.conf; dnsd -c dnsd.conf -i 127.0.0.1 -p 2313 >/dev/null 2>&1 & p=$!; listening 2313
nslookup -port=2313 musl.test 127.0.0.1 | grep -o '192.0.2.9'; kill $p 2>/dev/null
EOF
tbgiso "nslookup dnsd grep" "queries a server" "Address: 192.0.2.10" <<'EOF'
echo 'other.test 192.0.2.10' > dnsd.conf; dnsd -c dnsd.conf -i 127.0.0.1 -p 2314 >/dev/null 2>&1 & p=$!; listening 2314
nslookup -port=2314 other.test 127.0.0.1 | grep -o 'Address: 192.0.2.10'; kill $p 2>/dev/null
EOF
tbgiso "whois nc printf chmod grep tr" "asks a whois server" "Domain Name: example.test" <<'EOF'
printf '#!/bin/sh\nread q\necho "Domain Name: $q"\n' > w.sh; chmod +x w.sh; nc -l -p 2315 -e ./w.sh & p=$!; listening 2315
whois -h 127.0.0.1 -p 2315 example.test | tr -d '\r' | grep 'Domain Name'; wait $p
EOF
tbgiso "pscan nc grep" "finds an open port" "2341" <<'EOF'
nc -l -p 2341 >/dev/null 2>&1 & p=$!; listening 2341; pscan -p 2340 -P 2342 127.0.0.1 2>/dev/null | grep '2341.*open' | grep -o 2341; kill $p 2>/dev/null
EOF
tiso "ifup printf" "brings up an interface (dry run)" "ip link set lo up" <<'EOF'
printf 'iface lo inet loopback\n' > interfaces; ifup -n -i interfaces -f lo 2>&1 | grep -o 'ip link set lo up'
EOF
tiso "ifdown printf" "takes down an interface (dry run)" "ip link set lo down" <<'EOF'
printf 'iface lo inet loopback\n' > interfaces; ifdown -n -i interfaces -f lo 2>&1 | grep -o 'ip link set lo down'
EOF
tbgiso "sendmail nc printf chmod grep" "hands mail to an SMTP server" "Subject: hi" <<'EOF'
cat > smtp.sh <<'SMTP'
#!/bin/sh
echo '220 test'
while IFS= read -r l; do
	l=$(echo "$l" | tr -d '\r')
	case "$l" in
	DATA) echo '354 go'; while IFS= read -r b; do b=$(echo "$b" | tr -d '\r'); [ "$b" = . ] && break; echo "$b" >> body; done; echo '250 ok' ;;
	QUIT) echo '221 bye'; exit 0 ;;
	*) echo '250 ok' ;;
	esac
done
SMTP
chmod +x smtp.sh; nc -l -p 2318 -e ./smtp.sh & p=$!; listening 2318
printf 'Subject: hi\n\nbody\n' | sendmail -S 127.0.0.1:2318 -f a@example.test b@example.test; wait $p; grep -o 'Subject: hi' body
EOF

# ---- more first-named evidence for applets above used only as helpers
t "gzip gunzip" "compresses" "data" <<'EOF'
echo data | gzip | gunzip
EOF
t "bunzip2 bzip2" "decompresses" "data" <<'EOF'
echo data | bzip2 | bunzip2
EOF
t "getfattr setfattr touch" "reads an attribute" "# file: x user.colour=\"red\"" <<'EOF'
touch x; setfattr -n user.colour -v red x; echo $(getfattr -n user.colour x)
EOF
t "reformime makemime cat" "extracts MIME parts" "part text" <<'EOF'
echo 'part text' > b; makemime -c text/plain b | reformime -x part-; cat part-*
EOF
# ash's pwd is a builtin: env runs the applet.
t "pwd env mkdir" "prints the working folder" "here" <<'EOF'
mkdir here; cd here; p=$(env pwd); [ "$p" = "$PWD" ] && basename "$p"
EOF
t "ttysize" "default size off a terminal" "80 24" <<'EOF'
ttysize
EOF
t "mim printf" "runs a Makefile-like spec" "built" <<'EOF'
printf 'all:\n\techo built\n' > Mimfile; mim
EOF
t "fsck dd mkfs.minix" "checks through fsck.TYPE" "0" <<'EOF'
dd if=/dev/zero of=m.img bs=1k count=1024 2>/dev/null; mkfs.minix m.img >/dev/null; fsck -t minix m.img >/dev/null 2>&1; echo $?
EOF
t "lspci ls wc" "one line per PCI device in /sys" "yes" <<'EOF'
[ "$(lspci | wc -l)" = "$(ls /sys/bus/pci/devices 2>/dev/null | wc -l)" ] && echo yes
EOF
tbg "script cat" "records a terminal session" "recorded" <<'EOF'
sleep 1 | script -q -c 'echo recorded' log >shown; tr -d '\r' < log
EOF
# (the command stays a moment after its output: script writes no timing for output it drains
# once its child has exited, and scriptreplay would have nothing to replay)
t "scriptreplay script" "replays a recording" "replayed" <<'EOF'
sleep 1 | script -q -t -c 'echo replayed; sleep 1' log 2>timing >shown; scriptreplay timing log | tr -d '\r'
EOF
tbg "stty script grep" "terminal settings on a pty" "speed 38400 baud" <<'EOF'
sleep 1 | script -q -c 'stty -a' log >shown; grep -o 'speed 38400 baud' log
EOF
tbg "reset script od" "resets a terminal" "033 c 033 ( B 033 [ m 033 [ J 033 [ ? 2 5 h" <<'EOF'
sleep 1 | script -q -c reset log >shown; echo $(od -An -c log)
EOF
tiso "mdev rm ls cut" "makes a device node from /sys" "c" <<'EOF'
rm -f /dev/kmsg; mdev -s; ls -l /dev/kmsg | cut -c1
EOF
tiso "mdev rm stat" "makes device nodes from /sys" "character special file 1:b" <<'EOF'
rm -f /dev/kmsg; mdev -s; stat -c '%F %t:%T' /dev/kmsg
EOF
tbgiso "fakeidentd nc" "answers ident queries" "1,2 : USERID : UNIX : musl" <<'EOF'
fakeidentd -f -b 127.0.0.1 musl & p=$!; listening 113; echo '1,2' | nc 127.0.0.1 113 | tr -d '\r'; kill $p 2>/dev/null
EOF
tbgiso "telnet telnetd grep" "runs a remote shell" "via-42" <<'EOF'
telnetd -F -p 2320 -l /bin/sh & p=$!; listening 2320
# telnet quits when its input ends: keep it open until the answer came (at most 10 s)
: > out; { echo 'echo via-$((6 * 7)); exit'; w=; until grep -q via-42 out || [ ${#w} -ge 50 ]; do w=.$w; sleep 0.2; done; } \
  | telnet 127.0.0.1 2320 > out 2>/dev/null; grep -o 'via-42' out; kill $p 2>/dev/null
EOF
tbgiso "telnetd telnet grep" "serves a remote shell" "via-43" <<'EOF'
telnetd -F -p 2322 -l /bin/sh & p=$!; listening 2322
: > out; { echo 'echo via-$((6 * 7 + 1)); exit'; w=; until grep -q via-43 out || [ ${#w} -ge 50 ]; do w=.$w; sleep 0.2; done; } \
  | telnet 127.0.0.1 2322 > out 2>/dev/null; grep -o 'via-43' out; kill $p 2>/dev/null
EOF
tbgiso "ntpd" "serves and queries time" "reply from 127.0.0.1" <<'EOF'
ntpd -n -I lo >/dev/null 2>&1 & p=$!; listening 123
: > q; ntpd -n -q -w -p 127.0.0.1 > q 2>&1 & c=$!
tries=; until grep -q 'reply from' q || [ ${#tries} -ge 40 ]; do tries=.$tries; sleep 0.25; done; kill $c $p 2>/dev/null; grep -o 'reply from 127.0.0.1' q | head -n 1
EOF
tbgiso "rdate inetd printf date" "reads time from a server" "yes" <<'EOF'
printf 'time 37/tcp\n' > /etc/services; printf 'time stream tcp nowait root internal\n' > conf
inetd -f conf & p=$!; listening 37; rdate -p 127.0.0.1 | grep -q "$(date +%Y)" && echo yes; kill $p 2>/dev/null
EOF
tbgiso "lpr tcpsvd lpd mkdir cat" "queues a print job" "printed doc" <<'EOF'
mkdir -p spool/lp; echo 'printed doc' > d.txt; tcpsvd -E 127.0.0.1 2321 lpd "$PWD/spool" & p=$!; listening 2321
lpr -P lp@127.0.0.1:2321 d.txt; sleep 1; kill $p; cat spool/lp/dfA*
EOF
tbgiso "lpd tcpsvd lpr mkdir cat" "spools a job" "spooled doc" <<'EOF'
mkdir -p spool/lp; echo 'spooled doc' > d.txt; tcpsvd -E 127.0.0.1 2324 lpd "$PWD/spool" & p=$!; listening 2324
lpr -P lp@127.0.0.1:2324 d.txt; sleep 1; kill $p; cat spool/lp/dfA*
EOF
# lpq asks an LPD server for a queue (command 4, then the queue's name); this one answers
# only that question. (A foreground test: the server goes when a knocked-out lpq asks nothing.)
tiso "lpq nc printf chmod timeout" "asks an LPD server for its queue" "lp is ready and printing" <<'EOF'
printf '#!/bin/sh\nread q\n[ "$q" = "$(printf "\\004lp")" ] && echo "lp is ready and printing"\n' > lpd.sh; chmod +x lpd.sh
nc -l -p 2350 -e ./lpd.sh & p=$!; listening 2350; timeout 10 lpq -P lp@127.0.0.1:2350; kill $p 2>/dev/null
EOF
# chat talks to a "modem" on two named pipes: it must send AT, then wait for the OK that comes
# a second later (the modem notes that it replied before it does; it keeps its end of the
# pipe open, so that the rest of what chat sends never meets a closed pipe)
t "chat mkfifo dd printf cat timeout" "talks to a modem" "ATreplied" <<'EOF'
mkfifo to from; ( exec 3< to; dd bs=1 count=2 2>/dev/null <&3 > heard; sleep 1; echo replied >> heard; printf 'OK\r\n' ) > from & m=$!
timeout 10 chat TIMEOUT 5 '' AT OK < from > to && cat heard; kill $m 2>/dev/null
EOF
# volname reads the 32-byte volume name at offset 32808 (an ISO 9660 image's, padded here
# with NULs, which it prints as leading spaces)
t "volname dd printf sed" "reads a volume name" "MUSLTOOL_VOLUME" <<'EOF'
dd if=/dev/zero of=iso bs=1024 count=40 2>/dev/null; printf 'MUSLTOOL_VOLUME' | dd of=iso bs=1 seek=32808 conv=notrunc 2>/dev/null
volname iso | sed 's/^ *//'
EOF
tbg "popmaildir printf chmod cat" "fetches mail from a POP3 server" "Subject: fetched" <<'EOF'
cat > pop3.sh <<'POP'
#!/bin/sh
echo '+OK ready'
while IFS= read -r l; do
	case "$(echo "$l" | tr -d '\r')" in
	STAT) echo '+OK 1 40' ;;
	RETR*|TOP*) printf '+OK\r\nSubject: fetched\r\n\r\nbody\r\n.\r\n' ;;
	QUIT) echo '+OK bye'; exit 0 ;;
	*) echo '+OK' ;;
	esac
done
POP
chmod +x pop3.sh; mkdir -p md/new md/cur md/tmp; popmaildir -s -k md "$PWD/pop3.sh" >/dev/null 2>&1; cat md/new/* | tr -d '\r' | grep -o 'Subject: fetched'
EOF

t "rpm2cpio cpio" "extracts an rpm's payload" "./usr/share/musltool-rpm.txt" <<'EOF'
rpm2cpio "$DATA/hello.rpm" | cpio -t 2>/dev/null
EOF
t "rpm" "queries a package file" "musltool-rpm-1.0-1" <<'EOF'
rpm -qp "$DATA/hello.rpm"
EOF
t "man grep" "finds a page on MANPATH" "cat1/musltool.1" <<'EOF'
MANPATH="$DATA/man" man -w musltool | grep -o 'cat1/musltool.1'
EOF
tbg "mesg script tr" "terminal message permission" "is n" <<'EOF'
sleep 1 | script -q -c 'mesg n; mesg' log >shown; tr -d '\r' < log
EOF
t "adjtimex grep" "reads the kernel clock discipline" "maxerror" <<'EOF'
adjtimex | grep -o maxerror
EOF
tiso "adduser id" "adds a user with a group of its own" "uid=2005(erin) gid=2005(erin) groups=2005(erin)" <<'EOF'
adduser -D -H -u 2005 erin; id erin
EOF
tbgiso "ping6 grep" "answers on IPv6 loopback" "1 packets received" <<'EOF'
ping6 -c 1 -W 2 ::1 | grep -o '1 packets received'
EOF
tbgiso "traceroute6 grep" "one hop to IPv6 loopback" "::1" <<'EOF'
traceroute6 -n -m 1 -q 1 ::1 2>/dev/null | grep -o '::1' | head -n 1
EOF

run_queued
wait "$help_pid"
while IFS= read -r line; do echo "$line"; done < "$WORK/help.out"
echo SUITE-END
