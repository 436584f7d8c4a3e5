"""The simple recipe kinds: `c` (sources compiled in one call) and `command` (the recipe's own
build command). BusyBox is a kind of its own in `musltool.busybox`; `musltool.catalog` holds
the registry of kinds."""
