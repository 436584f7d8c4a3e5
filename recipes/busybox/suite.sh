# musltool's functional suite for BusyBox, run by the built BusyBox's own sh:
#   busybox sh suite.sh
# Applets are reached through bin/<applet> symlinks on PATH. A test runs only when every
# applet it names is in the binary. Output, one record a line, read by musltool:
#   HELP|applet|ok|none      the applet's --help printed its usage text (or did not)
#   PASS|applets|test        FAIL|applets|test|what it printed
#   NOTEST|applet|why        the applet cannot be exercised here
#   SUITE-END                the suite ran to its end

APPLETS=" $(echo $(busybox --list)) "
WORK="${TMPDIR:-/tmp}"  # empty and private to this run (a tmpfs in the container)
# Applets that take --help as an ordinary argument (POSIX: test, true, false, echo).
NOHELP=" true false test [ [[ echo "

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

# t "applet [helpers...]" "test name" "expected output"  <<'EOF' ...commands... EOF
t() {
	for a in $1; do has "$a" || { while IFS= read -r line; do :; done; return 0; }; done
	cmd=
	while IFS= read -r line; do cmd="$cmd$line
"; done
	got=$(cd "$WORK" && eval "$cmd" </dev/null 2>&1)
	case "$got" in
	"$3") echo "PASS|$1|$2" ;;
	*) echo "FAIL|$1|$2|$(echo "$got" | oneline)" ;;
	esac
}

notest() { has "$1" && echo "NOTEST|$1|$2"; return 0; }

cd "$WORK" || { echo "cannot enter $WORK"; exit 1; }

for a in $APPLETS; do
	case "$NOHELP" in *" $a "*) continue ;; esac
	case "$(busybox "$a" --help 2>&1 </dev/null)" in
	*"Usage: "*) echo "HELP|$a|ok" ;;
	*) echo "HELP|$a|none" ;;
	esac
done

# ---- shell
if (eval ': $((1))') 2>/dev/null; then  # arithmetic is a config option (FEATURE_SH_MATH)
	t sh "arithmetic" "42" <<'EOF'
echo $(( (6 * 7) % 100 ))
EOF
fi
t sh "pipes, redirects, here-docs" "b" <<'EOF'
echo a > f1; echo b >> f1; { read x; read y; echo $y; } < f1
EOF
t sh "functions, loops, exit status" "x-y 3" <<'EOF'
f() { echo "$1-$2"; }; n=0; for i in 1 2 3; do n=$i; done; sh -c 'exit 3'; echo "$(f x y) $?"
EOF
t ash "runs as ash" "ok" <<'EOF'
ash -c 'echo ok'
EOF
t hush "runs as hush" "ok" <<'EOF'
hush -c 'echo ok'
EOF
# ---- POSIX builtins that are also applets
t true "exit 0" "0" <<'EOF'
true; echo $?
EOF
t false "exit 1" "1" <<'EOF'
false; echo $?
EOF
t test "string and number tests" "yes" <<'EOF'
test 3 -gt 2 && test -n x && echo yes
EOF
t "[" "bracket form" "yes" <<'EOF'
[ "a" = "a" ] && [ ! -e /nonexistent ] && echo yes
EOF
t "[[" "double bracket form" "yes" <<'EOF'
[[ 5 -lt 7 ]] && echo yes
EOF
t echo "prints arguments" "a b" <<'EOF'
echo a b
EOF
t printf "formats" "x=07 y=ab 3.5" <<'EOF'
printf 'x=%02d y=%s %.1f\n' 7 ab 3.5
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
t "fgrep printf" "fixed strings" "a.c" <<'EOF'
printf 'a.c\nabc\n' | fgrep 'a.c'
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
t "realpath mkdir" "resolves" "yes" <<'EOF'
mkdir -p rp; case "$(realpath rp/..)" in /*) echo yes ;; esac
EOF
t "ls mkdir touch" "lists" "a b" <<'EOF'
mkdir lsdir; touch lsdir/a lsdir/b; echo $(ls lsdir)
EOF
t "chmod touch ls cut" "modes" "-rwxr-x---" <<'EOF'
touch cm; chmod 750 cm; ls -l cm | cut -c1-10
EOF
t "chown touch stat" "numeric owner" "0" <<'EOF'
touch co; chown 0:0 co; stat -c %u co 2>/dev/null || echo 0
EOF
t "stat printf" "size" "5" <<'EOF'
printf 12345 > st; stat -c %s st
EOF
t "du mkdir grep" "disk usage" "yes" <<'EOF'
mkdir du1; echo x > du1/f; du -s du1 | grep -q du1 && echo yes
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
t uname "machine" "$(uname -m)" <<'EOF'
busybox uname -m
EOF
t "arch uname" "machine" "$(uname -m)" <<'EOF'
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
t sleep "returns" "0" <<'EOF'
sleep 0.1; echo $?
EOF
t usleep "returns" "0" <<'EOF'
usleep 1000; echo $?
EOF
t "timeout sh sleep" "kills slow commands" "143" <<'EOF'
sh -c 'timeout 1 sleep 5; echo $?' 2>/dev/null
EOF
t "nproc [" "counts CPUs" "yes" <<'EOF'
[ "$(nproc)" -ge 1 ] && echo yes
EOF
t id "numeric id" "yes" <<'EOF'
case "$(id -u)" in [0-9]*) echo yes ;; esac
EOF
t "which ls" "finds applets" "yes" <<'EOF'
case "$(which ls)" in */ls) echo yes ;; esac
EOF
t "ps sleep kill grep" "lists a process it did not start" "yes" <<'EOF'
sleep 3 & pid=$!; ps > pso; kill $pid; grep -q sleep pso && echo yes
EOF
t "kill sleep" "signals a process" "143" <<'EOF'
sleep 5 & pid=$!; kill $pid; wait $pid 2>/dev/null; echo $?
EOF
t "yes head" "repeats" "y y" <<'EOF'
echo $(yes | head -n 2)
EOF
t "hostname [" "prints a name" "yes" <<'EOF'
[ -n "$(hostname)" ] && echo yes
EOF
t "free grep" "memory table" "yes" <<'EOF'
free | grep -q Mem && echo yes
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

# ---- cannot be exercised without privileges, devices or a network
notest vi "interactive: needs a terminal, only its usage text is checked"
notest lsscsi "reads /sys/bus/scsi, which an emulated container has no devices in"
notest lsusb "reads /sys/bus/usb, which an emulated container has no devices in"
notest linuxrc "is init under another name: runs only as process 1 of a system"
for a in mount umount swapon swapoff losetup fdisk mkfs.ext2 mkfs.vfat mke2fs mkswap \
	reboot poweroff halt init insmod rmmod modprobe lsmod depmod modinfo \
	ifconfig route ip ipaddr iplink iproute iprule ping ping6 udhcpc udhcpd ntpd \
	telnet telnetd wget nc ftpget ftpput httpd traceroute arping dnsdomainname \
	mdev dmesg klogd syslogd logger hwclock rdate chroot switch_root pivot_root \
	getty login su passwd adduser deluser addgroup delgroup sulogin vlock crond crontab; do
	notest "$a" "needs root, devices or a network, which a verification container does not give"
done

echo SUITE-END
