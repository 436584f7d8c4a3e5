"""BusyBox as a recipe kind: its applet map, Kconfig-driven builds, verification suite and
root filesystems."""
