"""Firmware: the verified BusyBox build as a bootable system (a root file tree, a cpio
initramfs and an ext4 disk), booted on a pinned kernel under qemu-system and proven there,
and released as bundles. `kernels.toml` pins the kernels."""
