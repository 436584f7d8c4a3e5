# musltool's boot suite: run by BusyBox's sh as root on the console of a booted system, where
# the applets that need a kernel of their own can work: init as process 1, mount, mdev,
# modules, loop devices, the real-time clock, namespaces. Same records as suite.sh:
#   PASS|applets|check        FAIL|applets|check|what it printed     (first applet = evidence)
#   BOOT-SUITE-END            the suite ran to its end
# MUSLTOOL_DISK names the block device that holds musltool's ext4 image (read-only).

DISK="${MUSLTOOL_DISK:-/dev/vda}"
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
check "hwclock date grep" "writes and reads the real-time clock" "2024" <<'EOF'
date -s '2024-01-02 03:04:05' >/dev/null; hwclock -w -u; hwclock -r -u | grep -o 2024
EOF
# ---- network on loopback
check "ifconfig ping grep" "adds an address" "1 packets received" <<'EOF'
ifconfig lo:1 127.0.0.2 netmask 255.0.0.0 up; ping -c 1 -W 2 127.0.0.2 | grep -o '1 packets received'
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
depmod && grep -q 'loop.ko' "/lib/modules/$KVER/modules.dep.bb" && echo yes
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
check "fsfreeze" "freezes and thaws a file system" "0 0" <<'EOF'
fsfreeze --freeze l; a=$?; fsfreeze --unfreeze l; echo "$a $?"
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

echo BOOT-SUITE-END
