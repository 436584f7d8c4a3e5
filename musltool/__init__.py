"""musltool: fully static musl binaries for many ISAs, verified under qemu-user."""

__version__ = "0.1.0"
