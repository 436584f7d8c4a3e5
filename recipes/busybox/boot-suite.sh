# musltool's boot suite: run by BusyBox's sh as root on the console of a booted system, where
# the applets that need a kernel of their own can work: init as process 1, mount, mdev,
# modules, loop devices, the real-time clock, namespaces. Same records as suite.sh:
#   PASS|applets|check        FAIL|applets|check|what it printed     (first applet = evidence)
#   BOOT-SUITE-END            the suite ran to its end
# MUSLTOOL_DISK names the block device that holds musltool's ext4 image (read-only),
# MUSLTOOL_CONSOLE the console's terminal (from the ISA table), MUSLTOOL_LACKS what the ISA
# table says the machine has not (rtc: a real-time clock device; vt: virtual terminals).

DISK="${MUSLTOOL_DISK:-/dev/vda}"
CONSOLE="${MUSLTOOL_CONSOLE:-/dev/console}"
LACKS=" ${MUSLTOOL_LACKS:-} "
KVER=$(uname -r)
WORK=/tmp/boot-suite
mkdir -p "$WORK" && cd "$WORK" || exit 1

oneline() {
	out=
	while IFS= read -r line; do out="$out${out:+\\n}$line"; done
	echo "$out"
}

# check "applets" "name" "expected" <<'EOF' ...commands... EOF
check() {
	cmd=
	while IFS= read -r line; do cmd="$cmd$line
"; done
	got=$(eval "$cmd" </dev/null 2>&1)
	case "$got" in
	"$3") echo "PASS|$1|$2" ;;
	*) echo "FAIL|$1|$2|$(echo "$got" | oneline)" ;;
	esac
}

# waitfor 'CONDITION': polls, ten times a second for up to 10 s, until CONDITION holds. A busy
# host slows the machine down: a check waits for what it needs rather than a fixed time.
waitfor() {
	_w=0
	until eval "$1" 2>/dev/null; do
		[ $_w -lt 100 ] || return 1
		sleep 0.1
		_w=$((_w + 1))
	done
}

# kcheck: a check of module handling, run only when the image carries modules for the running
# kernel (musltool's kernels do; a kernel of your own, booted with --kernel, may have its
# drivers built in instead).
kcheck() {
	if [ -d "/lib/modules/$KVER" ]; then
		check "$@"
	else
		while IFS= read -r line; do :; done
	fi
}

# hcheck "hardware..." "applets" "name" "expected": a check of hardware the machine has unless
# the ISA table says it lacks any of it (s390x: no real-time clock, no virtual terminals; ppc64le:
# a clock without an alarm); then the
# applets it would prove stay unproven there: no record, never a pass.
hcheck() {
	for part in $1; do
		case "$LACKS" in
		*" $part "*) while IFS= read -r line; do :; done; return ;;
		esac
	done
	shift
	check "$@"
}

# mcheck "modules" "applets" "name" "expected": a check of what kernel modules give, run when
# each module loads (musltool's kernels ship them; a kernel of your own may lack one, and then
# the applets it would prove stay unproven: no record, never a pass).
mcheck() {
	modules=$1
	shift
	for module in $modules; do
		if ! modprobe -q "$module" 2>/dev/null; then
			while IFS= read -r line; do :; done
			return
		fi
	done
	check "$@"
}

# ---- the system as init brought it up
check "init cat" "process 1 is init" "init" <<'EOF'
cat /proc/1/comm
EOF
check "ps awk" "ps sees process 1" "init" <<'EOF'
ps -o pid,comm | awk '$1 == 1 { print $2 }'
EOF
check "mount grep" "proc, sysfs and devtmpfs are mounted" "3" <<'EOF'
mount | grep -c -E '^proc on /proc |^sysfs on /sys |^devtmpfs on /dev '
EOF
check "mdev rm ls cut" "mdev makes device nodes from /sys" "c" <<'EOF'
rm -f /dev/zero; mdev -s; ls -l /dev/zero | cut -c1
EOF
check "dmesg grep" "reads the kernel log" "1" <<'EOF'
dmesg | grep -c '^\[ *[0-9.]*\] Linux version'
EOF
check "klogd syslogd grep" "passes kernel messages to syslogd" "musltool-kmsg" <<'EOF'
syslogd -n -O "$PWD/klog" & s=$!; klogd -n & k=$!; sleep 1
echo '<6>musltool-kmsg' > /dev/kmsg; sleep 1; kill $k $s; grep -o 'musltool-kmsg' klog | head -n 1
EOF
check "dnsdomainname hostname" "domain part of the host's full name" "example.org" <<'EOF'
echo '127.0.1.1 box.example.org box' >> /etc/hosts; hostname box; dnsdomainname; hostname -F /etc/hostname
EOF
check "sysctl cat" "writes a kernel setting" "musltool.test" <<'EOF'
sysctl -w kernel.domainname=musltool.test >/dev/null; cat /proc/sys/kernel/domainname
EOF
# ---- time
check "date" "sets the system clock" "2024-01-02" <<'EOF'
date -s '2024-01-02 03:04:05' >/dev/null; date +%F
EOF
hcheck rtc "hwclock date grep" "writes and reads the real-time clock" "2024" <<'EOF'
date -s '2024-01-02 03:04:05' >/dev/null; hwclock -w -u; hwclock -r -u | grep -o 2024
EOF
# ---- network on loopback
# (outside 127/8, every address of which loopback answers already)
check "ifconfig ping grep" "adds an address" "1 packets received" <<'EOF'
ifconfig lo:1 10.13.0.1 netmask 255.255.255.0 up; ping -c 1 -W 2 10.13.0.1 | grep -o '1 packets received'
EOF
check "route grep" "adds a route" "1" <<'EOF'
route add -net 10.9.0.0 netmask 255.255.0.0 dev lo; route -n | grep -c '^10.9.0.0'
EOF
check "ip grep" "adds an address" "10.10.0.1" <<'EOF'
ip addr add 10.10.0.1/24 dev lo; ip addr show lo | grep -o '10.10.0.1'
EOF
# ---- mounts and namespaces
check "umount mount mkdir" "mounts and unmounts a tmpfs" "x gone" <<'EOF'
mkdir -p m; mount -t tmpfs none m; echo x > m/f; r=$(cat m/f); umount m; [ -e m/f ] || echo "$r gone"
EOF
check "unshare hostname" "a private UTS namespace" "inner" <<'EOF'
unshare -u sh -c 'hostname inner; hostname'
EOF
check "nsenter hostname" "enters process 1's namespaces" "musltool" <<'EOF'
unshare -u sh -c 'hostname inner; nsenter -t 1 -u hostname'
EOF
# ---- kernel modules (shipped in the image for the kernel it boots)
# (this configuration's depmod is the small one: it writes modules.dep.bb, BusyBox's format)
kcheck "depmod grep" "indexes the modules" "yes" <<'EOF'
rm -f "/lib/modules/$KVER/modules.dep.bb"; depmod && grep -q 'loop.ko' "/lib/modules/$KVER/modules.dep.bb" && echo yes
EOF
# (modinfo reads the full depmod's modules.dep: the list of modules is enough for it here)
kcheck "modinfo find sed" "reads a module's information" "loop" <<'EOF'
cd "/lib/modules/$KVER" && find kernel -name '*.ko' | sed 's/$/:/' > modules.dep; modinfo -F name loop
EOF
kcheck "insmod lsmod grep" "loads a module" "crc16" <<'EOF'
insmod "$(find /lib/modules/$KVER -name crc16.ko)"; lsmod | grep -o '^crc16'
EOF
kcheck "modprobe lsmod grep" "loads modules with their dependencies" "ext4 jbd2" <<'EOF'
modprobe crc32c_generic; modprobe ext4; echo $(lsmod | grep -o -E '^(ext4|jbd2)' | sort)
EOF
kcheck "lsmod grep" "lists the loaded modules" "1" <<'EOF'
modprobe loop; lsmod | grep -c '^loop '
EOF
kcheck "rmmod modprobe lsmod grep" "unloads a module" "0" <<'EOF'
modprobe virtio_blk; rmmod virtio_blk; lsmod | grep -c '^virtio_blk '
EOF
# ---- block devices: a loop device over an image file, then musltool's own ext4 image
check "losetup dd mkfs.ext2 modprobe" "attaches a loop device" "/tmp/boot-suite/img" <<'EOF'
modprobe -q loop; dd if=/dev/zero of=img bs=1k count=8192 2>/dev/null; mkfs.ext2 -F -L mtloop img >/dev/null 2>&1
losetup /dev/loop0 "$PWD/img"; losetup /dev/loop0 | grep -o '/tmp/boot-suite/img'
EOF
check "blockdev" "size of a block device" "8388608" <<'EOF'
blockdev --getsize64 /dev/loop0
EOF
check "findfs" "finds a file system by its label" "/dev/loop0" <<'EOF'
findfs LABEL=mtloop
EOF
check "mount grep" "mounts an ext2 file system (by the ext4 driver)" "1" <<'EOF'
mkdir -p l; mount -t ext4 /dev/loop0 l; grep -c ' /tmp/boot-suite/l ' /proc/mounts
EOF
check "chattr lsattr touch cut" "sets an inode flag" "i" <<'EOF'
touch l/f; chattr +i l/f; lsattr l/f | cut -c5; chattr -i l/f
EOF
check "lsattr chattr touch cut" "reads inode flags" "a" <<'EOF'
touch l/g; chattr +a l/g; lsattr l/g | cut -c6; chattr -a l/g
EOF
check "fstrim grep" "discards unused blocks" "trimmed" <<'EOF'
fstrim -v l | grep -o trimmed
EOF
# (a file made while the file system is frozen waits, blocked (D), and appears once it is
# thawed; an emergency thaw undoes a freeze that --unfreeze did not)
check "fsfreeze touch cut ls grep" "freezes and thaws a file system" "D 1" <<'EOF'
fsfreeze --freeze l; touch l/during & t=$!; waitfor '[ "$(cut -d" " -f3 /proc/$t/stat)" = D ]'
a=$(cut -d' ' -f3 /proc/$t/stat 2>/dev/null); fsfreeze --unfreeze l; sleep 1; [ -d /proc/$t ] && echo j > /proc/sysrq-trigger; echo "$a $(ls l | grep -c during)"
EOF
check "swapon swapoff dd mkswap grep" "turns swap on and off" "1 0" <<'EOF'
dd if=/dev/zero of=l/swap bs=1k count=2048 2>/dev/null; chmod 600 l/swap; mkswap l/swap >/dev/null
swapon l/swap; a=$(grep -c l/swap /proc/swaps); swapoff l/swap; echo "$a $(grep -c l/swap /proc/swaps)"
EOF
check "swapoff swapon grep" "turns swap off" "0" <<'EOF'
swapon l/swap; swapoff l/swap; grep -c l/swap /proc/swaps
EOF
check "umount losetup" "detaches a loop device" "0" <<'EOF'
umount l; losetup -d /dev/loop0; losetup -a | grep -c loop0
EOF
check "mount modprobe cmp" "mounts musltool's ext4 image and finds this BusyBox in it" "same" <<'EOF'
modprobe -q virtio_blk; modprobe -q ext4; mkdir -p d; mount -o ro -t ext4 "$DISK" d && cmp /bin/busybox d/bin/busybox && echo same; umount d
EOF

# ---- virtual terminals: the kernel's, with no screen (the console is a serial line)
check "fgconsole chvt" "prints the active virtual terminal" "2" <<'EOF'
chvt 2; fgconsole; chvt 1
EOF
check "chvt cat" "switches virtual terminals" "tty2 tty1" <<'EOF'
chvt 2; a=$(cat /sys/class/tty/tty0/active); chvt 1; echo "$a $(cat /sys/class/tty/tty0/active)"
EOF
check "openvt tty cat" "runs a command on another virtual terminal" "/dev/tty3" <<'EOF'
openvt -c 3 -w -- sh -c 'tty > /tmp/boot-suite/vt'; cat vt
EOF
check "kbd_mode" "sets and reads keyboard modes" "The keyboard is in mediumraw (keycode) mode|The keyboard is in default (ASCII) mode" <<'EOF'
kbd_mode -k -C /dev/tty3; a=$(kbd_mode -C /dev/tty3); kbd_mode -a -C /dev/tty3; b=$(kbd_mode -C /dev/tty3)
kbd_mode -u -C /dev/tty3; echo "$a|$b"
EOF
hcheck vt "conspy echo grep" "dumps a virtual terminal's screen" "1" <<'EOF'
echo musltool-on-tty4 > /dev/tty4; conspy -nd 4 | grep -c musltool-on-tty4
EOF
# (7 bytes of magic, 256 flags, 10 maps of 128 two-byte keys; key 30 of map 0 is the kernel's
# default A, 0x0b61)
check "dumpkmap head wc od" "dumps the keymap" "bkeymap 2823 2913" <<'EOF'
dumpkmap > kmap; echo $(head -c 7 kmap) $(wc -c < kmap) $(od -An -tu2 -j 323 -N 2 kmap)
EOF
# loadkmap: the dumped keymap with key 30 (A) made a copy of key 48 (B) in map 0 (offsets:
# 7 bytes of magic, 256 flags, then 128 two-byte entries per map) goes in; a new dump has B's
# entry at A. (Only that key is compared: the kernel normalises a few other entries it loads.)
check "loadkmap dumpkmap dd od" "loads a keymap" "loaded" <<'EOF'
cp kmap kmap2; dd if=kmap of=kmap2 bs=1 skip=359 seek=323 count=2 conv=notrunc 2>/dev/null
loadkmap < kmap2; dumpkmap > kmap3; loadkmap < kmap; key() { od -An -tx1 -j "$2" -N 2 "$1"; }
[ "$(key kmap3 323)" = "$(key kmap 359)" ] && [ "$(key kmap3 323)" != "$(key kmap 323)" ] && echo loaded
EOF
# (outside any session's terminal, as init's children are; the console is the ISA table's)
check "cttyhack setsid" "finds the console's terminal" "$CONSOLE" <<'EOF'
setsid cttyhack
EOF
# ---- kernel events, timers, the watchdog
check "uevent sh head" "runs a helper for each kernel event" "add mem" <<'EOF'
uevent sh -c 'echo "$ACTION $SUBSYSTEM" >> /tmp/boot-suite/events' & u=$!
waitfor '[ "$(cat /proc/$u/comm)" = uevent ]'; sleep 0.5
echo add > /sys/class/mem/null/uevent; waitfor '[ -s events ]'; kill $u; head -n 1 events
EOF
# (a job for 03:04, the minute it starts in, must not run; the one for 03:05 must)
check "crond date mkdir cat" "runs a job at a minute boundary" "ran" <<'EOF'
mkdir -p crontabs; printf '4 3 * * * echo early >> /tmp/boot-suite/cron.out\n5 3 * * * echo ran >> /tmp/boot-suite/cron.out\n' > crontabs/root
date -s '2024-01-02 03:04:58' >/dev/null; crond -f -c "$PWD/crontabs" & c=$!; waitfor '[ -s cron.out ]'; sleep 1
kill $c; cat cron.out
EOF
# (softdog only logs if it fires, soft_noboot; watchdog must hold it open, and stop it as it
# ends, with the magic close: otherwise the kernel says "watchdog did not stop!")
mcheck "softdog" "watchdog sh grep dmesg" "holds /dev/watchdog open and closes it as it must" "busy 0" <<'EOF'
rmmod softdog && modprobe softdog soft_noboot=1 || exit 1; watchdog -F -T 60 -t 1 /dev/watchdog & w=$!
waitfor '[ "$(cat /proc/$w/comm)" = watchdog ]'; sleep 1; b=$( (exec 3>/dev/watchdog) 2>&1 | grep -o busy)
kill $w; wait $w; echo "$b $(dmesg | grep -c 'did not stop')"
EOF
# ---- new roots: each in a chroot into a tmpfs of its own, in a mount namespace (and a PID
# namespace, where process 1 is asked for) of its own, so nothing outside that tmpfs is touched.
# newroot.sh, sourced with R set: /tmp/boot-suite/$R becomes a tmpfs holding this BusyBox, an
# /init file, and switch_root, run-init, pivot_root, linuxrc as PATH has them; in it, another
# tmpfs at new/ holding BusyBox and an init that says where it is.
cat > newroot.sh <<'EOF'
R=/tmp/boot-suite/$R
mkdir -p "$R" && { mountpoint -q "$R" || mount -t tmpfs none "$R"; } && cd "$R" && mkdir bin new && cp /bin/busybox bin/ &&
ln -s busybox bin/sh && echo old > init && mount -t tmpfs none new && mkdir new/bin &&
for a in switch_root run-init pivot_root linuxrc; do
	# the applet as PATH has it: a symlink to this BusyBox, or a stand-in put first on PATH
	p=$(command -v "$a"); case "$p" in /tmp/*) cp "$p" "bin/$a" ;; *) ln -s busybox "bin/$a" ;; esac
done &&
cp /bin/busybox new/bin/ && ln -s busybox new/bin/sh && echo new > new/root-name &&
printf '#!/bin/sh\necho "init $$ in $(/bin/busybox cat /root-name)"\n' > new/init && chmod 755 new/init
EOF
# (switch_root and run-init: the old root is a tmpfs mounted outside the namespace, so what
# they left of it is seen afterwards: its folders, emptied, and no file)
check "switch_root unshare chroot mount ls" "empties the old root and starts the new init" "init 1 in new, left: . ./bin ./new" <<'EOF'
mkdir -p sr && mount -t tmpfs none sr; out=$(unshare -m -p -f sh -c '[ $$ = 1 ] || exit 9; R=sr; . /tmp/boot-suite/newroot.sh && exec chroot . switch_root /new /init')
echo "$out, left:" $(cd sr && find . | sort); umount sr
EOF
check "run-init unshare chroot mount ls" "empties the old root and starts the new init" "init 1 in new, left: . ./bin ./new" <<'EOF'
mkdir -p ri && mount -t tmpfs none ri; out=$(unshare -m -p -f sh -c '[ $$ = 1 ] || exit 9; R=ri; . /tmp/boot-suite/newroot.sh && exec chroot . run-init /new /init')
echo "$out, left:" $(cd ri && find . | sort); umount ri
EOF
# linuxrc is init under another name: as process 1 of a PID namespace, in a chroot, it runs
# that root's inittab (a sysinit line that writes through a bind mount, then poweroff, which
# ends the namespace)
check "linuxrc unshare chroot mount cat" "runs an inittab as process 1" "sysinit ran" <<'EOF'
mkdir -p li-out; (timeout 20 unshare -m -p -f sh -c '[ $$ = 1 ] || exit 9; R=li; . /tmp/boot-suite/newroot.sh && mkdir etc out && mount --bind /tmp/boot-suite/li-out out &&
printf "::sysinit:/bin/sh -c \"echo sysinit ran > /out/ran\"\n::once:/bin/busybox poweroff -f\n" > etc/inittab && exec chroot . linuxrc'; echo) >/dev/null 2>&1; cat li-out/ran
EOF
check "pivot_root unshare chroot" "makes a new root and keeps the old one under it" "new old" <<'EOF'
unshare -m sh -c 'R=pr; . /tmp/boot-suite/newroot.sh && mkdir new/old && exec chroot . /bin/busybox sh -c "pivot_root /new /new/old && echo \$(/bin/busybox cat /root-name /old/init)"'
EOF
# ---- network devices that kernel modules make (dummy interfaces, bridges, VLANs, tunnels)
mcheck "dummy bridge" "brctl ip ls" "makes a bridge and adds a port" "dummy0" <<'EOF'
[ -e /sys/class/net/dummy0 ] || ip link add dummy0 type dummy; brctl addbr br9; brctl addif br9 dummy0; ls /sys/class/net/br9/brif
EOF
mcheck "dummy 8021q" "vconfig ls" "makes a VLAN interface" "dummy0.5" <<'EOF'
vconfig add dummy0 5 >/dev/null; ls /sys/class/net | grep -x dummy0.5
EOF
# (a TAP device is an Ethernet one, type 1; a TUN device's type is 65534)
mcheck "tun" "tunctl cat" "makes a TAP device" "1" <<'EOF'
tunctl -t tap9 >/dev/null; cat /sys/class/net/tap9/type
EOF
mcheck "dummy" "nameif ip cat" "renames an interface by its MAC address" "02:00:00:00:00:31 moved" <<'EOF'
[ -e /sys/class/net/dummy1 ] || ip link add dummy1 type dummy; ip link set dummy1 address 02:00:00:00:00:31
nameif mtren0 02:00:00:00:00:31; echo "$(cat /sys/class/net/mtren0/address) $([ -e /sys/class/net/dummy1 ] || echo moved)"
EOF
mcheck "dummy bonding" "ifenslave ip cat" "bonds an interface" "dummy2" <<'EOF'
echo +bond9 > /sys/class/net/bonding_masters; ip link add dummy2 type dummy; ip link set bond9 up
ifenslave bond9 dummy2 >/dev/null 2>&1; cat /sys/class/net/bond9/bonding/slaves
EOF
# (an IP-in-IP device is type 768; its address and broadcast are the local and remote ends)
mcheck "ipip" "iptunnel cat" "makes an IP-in-IP tunnel" "768 0a:0c:00:01 0a:0c:00:02" <<'EOF'
iptunnel add mtun9 mode ipip remote 10.12.0.2 local 10.12.0.1; echo $(cat /sys/class/net/mtun9/type /sys/class/net/mtun9/address /sys/class/net/mtun9/broadcast)
EOF
mcheck "dummy bridge" "arp ip awk" "adds an ARP entry" "02:00:00:00:00:02" <<'EOF'
ip addr add 10.11.0.1/24 dev br9; ip link set dummy0 up; ip link set br9 up; arp -i br9 -s 10.11.0.2 02:00:00:00:00:02
awk '$1 == "10.11.0.2" { print $4 }' /proc/net/arp
EOF
mcheck "dummy bridge" "ipneigh arp grep" "shows the neighbour table" "1" <<'EOF'
arp -i br9 -s 10.11.0.3 02:00:00:00:00:03; ipneigh show dev br9 | grep -c 02:00:00:00:00:03
EOF
# ---- block devices: discard on a loop device over a tmpfs file
check "blkdiscard tr dd losetup wc" "discards a block device's blocks" "65536 0" <<'EOF'
mkdir -p t; mount -t tmpfs none t; tr '\0' x < /dev/zero | dd of=t/img bs=1k count=64 2>/dev/null
losetup /dev/loop1 "$PWD/t/img"; a=$(tr -d '\0' < /dev/loop1 | wc -c); [ "$a" = 65536 ] && blkdiscard /dev/loop1
echo "$a $(tr -d '\0' < /dev/loop1 | wc -c)"; losetup -d /dev/loop1; umount t
EOF
# (nologin pauses 5 seconds by design after its refusal)
check "nologin" "refuses a login" "This account is not available, exit 1" <<'EOF'
out=$(nologin); echo "$out, exit $?"
EOF

# ---- a virtual Ethernet pair (v0 and its peer, renamed v1): DHCP, ARP and link-local
# addresses between two real interfaces
mcheck "veth" "ip" "makes a virtual Ethernet pair" "v0 v1" <<'EOF'
ip link add v0 type veth && ip link set "$(ls /sys/class/net | grep '^veth' | head -n 1)" name v1
ip addr add 10.14.0.1/24 dev v0; ip link set v0 up; ip link set v1 up; echo $(ls /sys/class/net | grep -x -E 'v0|v1')
EOF
cat > dhcp.conf <<'EOF'
start 10.14.0.100
end 10.14.0.110
interface v0
lease_file /tmp/boot-suite/leases
EOF
# the scripts udhcpc, zcip and ifplugd run: each records its event and address (or state)
printf '#!/bin/sh\necho "$1 ${ip:-$2}" >> "/tmp/boot-suite/$(basename "$0").out"\n' > record.sh
ln -sf record.sh udhcpc.sh; ln -sf record.sh zcip.sh; ln -sf record.sh ifplugd.sh; chmod 755 record.sh
# (udhcpd serves on v0; udhcpc asks on v1: the lease is the pool's first address)
mcheck "veth" "udhcpd udhcpc grep" "serves an address" "bound 10.14.0.100" <<'EOF'
rm -f udhcpc.sh.out; udhcpd -f dhcp.conf >/dev/null 2>&1 & d=$!; sleep 1
udhcpc -i v1 -f -n -q -t 5 -T 2 -s /tmp/boot-suite/udhcpc.sh >/dev/null 2>&1; kill $d; wait $d; grep bound udhcpc.sh.out
EOF
mcheck "veth" "udhcpc udhcpd grep" "gets an address" "bound 10.14.0.100" <<'EOF'
rm -f udhcpc.sh.out; udhcpd -f dhcp.conf >/dev/null 2>&1 & d=$!; sleep 1
udhcpc -i v1 -f -n -q -t 5 -T 2 -s /tmp/boot-suite/udhcpc.sh >/dev/null 2>&1; kill $d; wait $d; grep bound udhcpc.sh.out
EOF
# (udhcpd wrote its leases when it stopped)
mcheck "veth" "dumpleases grep" "lists the leases udhcpd granted" "1" <<'EOF'
dumpleases -f /tmp/boot-suite/leases | grep -c '10\.14\.0\.100'
EOF
mcheck "veth" "arping ip grep" "gets an answer to an ARP request, and none from nobody" "Received 1 response, Received 0 response" <<'EOF'
# (v1 answers a request from v0's address, which is this host's own: accept_local lets it)
echo 1 > /proc/sys/net/ipv4/conf/v1/accept_local; ip addr add 10.14.0.2/24 dev v1
echo "$(arping -c 1 -w 3 -I v0 10.14.0.2 | grep -o 'Received [0-9]* response'), $(arping -c 1 -w 1 -I v0 10.14.0.9 | grep -o 'Received [0-9]* response')"
EOF
# (zcip probes for a link-local address on v1 for a few seconds, then configures it)
mcheck "veth" "zcip sed" "picks a link-local address" "config 169.254" <<'EOF'
timeout 30 zcip -f -q v1 /tmp/boot-suite/zcip.sh >/dev/null 2>&1; grep config zcip.sh.out | sed 's/\.[0-9]*\.[0-9]*$//'
EOF
mcheck "veth" "ifplugd ip cat" "runs its script as the link comes up and goes down" "[] v0 up v0 down" <<'EOF'
ip link set v1 down; sleep 1; ifplugd -n -p -q -i v0 -t 1 -u 0 -d 0 -r /tmp/boot-suite/ifplugd.sh >/dev/null 2>&1 & p=$!
waitfor '[ "$(cat /proc/$p/comm)" = ifplugd ]'; sleep 2; a=$(cat ifplugd.sh.out 2>/dev/null)
ip link set v1 up; waitfor 'grep -q "v0 up" ifplugd.sh.out'; ip link set v1 down; waitfor 'grep -q "v0 down" ifplugd.sh.out'
kill $p; ip link set v1 up
echo "[$a]" $(cat ifplugd.sh.out)
EOF
# ---- what process 1 of a PID namespace sees: reboot(2) there ends that namespace's init with
# SIGHUP (restart) or SIGINT (halt), which unshare passes on (exit 129, 130); killall5 there
# signals only the namespace's processes (a /proc of its own)
check "reboot unshare" "reboots (a PID namespace)" "129" <<'EOF'
(unshare -p -f sh -c '[ $$ = 1 ] || exit 9; reboot -f; sleep 3; exit 7'; echo $?) 2>/dev/null
EOF
check "halt unshare" "halts (a PID namespace)" "130" <<'EOF'
(unshare -p -f sh -c '[ $$ = 1 ] || exit 9; halt -f; sleep 3; exit 7'; echo $?) 2>/dev/null
EOF
# (the sleep ignores SIGTERM: killall5 must send the SIGKILL it is given)
check "killall5 unshare setsid ps grep" "signals every process outside its session" "1 0" <<'EOF'
unshare -m -p -f --mount-proc sh -c '[ "$(ps -o pid | wc -l)" -lt 6 ] || exit 1; setsid sh -c "trap \"\" TERM; exec sleep 100" &
i=0; until ps -o comm | grep -q sleep || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done; a=$(ps -o comm | grep -c sleep)
killall5 -9; i=0; while ps -o comm | grep -q sleep && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done; echo "$a $(ps -o comm | grep -c sleep)"'
EOF
# ---- more of the kernel's devices
# (setconsole sends what is written to /dev/console, this suite's own terminal, to a virtual
# terminal, then back; in a session whose terminal is that one, whose end hangs it up, which
# undoes the redirect whatever setconsole -r did)
hcheck vt "setconsole setsid conspy grep" "redirects the console" "1" <<'EOF'
setsid sh -c 'exec <>/dev/tty5; setconsole /dev/tty5; echo musltool-console > /dev/console; setconsole -r'
conspy -nd 5 | grep -c musltool-console
EOF
# (deallocvt frees the virtual terminal it is given, and only that one: a freed one's screen,
# /dev/vcsN, can no longer be read)
check "deallocvt openvt head" "frees a virtual terminal" "vt7" <<'EOF'
openvt -c 6 -w -- true; openvt -c 7 -w -- true; deallocvt 6
for v in 6 7; do head -c 1 /dev/vcs$v >/dev/null 2>&1 && echo vt$v; done; deallocvt 7
EOF
# (-R sets ADDR_NO_RANDOMIZE, 0x40000; the rest of the personality is the ISA's own)
check "setarch cat" "sets a personality flag" "0 262144" <<'EOF'
echo "$((0x$(cat /proc/self/personality) & 0x40000)) $((0x$(setarch linux64 -R cat /proc/self/personality) & 0x40000))"
EOF
check "hdparm grep" "reads a disk's geometry" "sectors = $(cat "/sys/block/${DISK#/dev/}/size")" <<'EOF'
hdparm -g "$DISK" | grep -o 'sectors = [0-9]*'
EOF
# (rdev as PATH has it, copied into a tmpfs over the disk's /tmp, runs chrooted on the disk)
check "rdev mount chroot cp" "names the block device of /" "$DISK /" <<'EOF'
mkdir -p r; mount -o ro -t ext4 "$DISK" r && mount --bind /dev r/dev && mount -t tmpfs none r/tmp &&
cp "$(command -v rdev)" r/tmp/rdev && chroot r /tmp/rdev; umount r/tmp; umount r/dev; umount r
EOF
# (rtcwake -m on sets an alarm on the real-time clock, 3 seconds on (4 by its rounding), and
# waits for it: while it waits the clock's alarm interrupt is on (the kernel's
# /proc/driver/rtc says so), and it returns only once the alarm rang, then turns it off)
hcheck "rtc rtc-alarm" "rtcwake cat grep" "waits for the real-time clock alarm it set" "yes no woke" <<'EOF'
c=/sys/class/rtc/rtc0; s=$(cat $c/since_epoch); timeout 10 rtcwake -m on -s 3 >/dev/null & p=$!
waitfor 'grep -q "^alarm_IRQ.*yes" /proc/driver/rtc'; a=$(grep '^alarm_IRQ' /proc/driver/rtc); wait $p; e=$(cat $c/since_epoch); b=$(grep '^alarm_IRQ' /proc/driver/rtc)
echo "${a##* } ${b##* } $([ $((e - s)) -ge 3 ] && echo woke)"
EOF

echo BOOT-SUITE-END
