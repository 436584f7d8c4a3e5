"""The distro provider: the host distribution's cross GCC plus musl built from pinned source.

Debian ships `gcc-<triple>` cross compilers for glibc. musl (toolchains/debian-gcc.toml pins
its source) is configured for the compiler's triple and installed into a sysroot in the cache;
musl's build writes `musl-gcc.specs`, which makes that GCC use musl's headers, start files and
libc instead of glibc's. The Linux uapi headers (linux/, asm/ ...) that system programs
include are copied into the sysroot from Debian's linux-libc-dev packages. The sysroot is
keyed by (musl source hash, ISA, compiler version): a second build fetches and compiles
nothing.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from filelock import FileLock

from musltool.cache import cache_dir
from musltool.errors import MissingToolError, UsageError
from musltool.extract import COMPLETE_MARKER, extract, is_complete
from musltool.fetch import FetchOptions, Source, fetch, fetch_options
from musltool.hostparts import apt_install
from musltool.isa import Isa, host_isa
from musltool.process import log, run, which
from musltool.toolchain.base import Toolchain
from musltool.toolchain.driver import DriverConfig, driver_program, install
from musltool.toolchain.manifests import manifests, names

FAMILY = "distro"
SPECS = "lib/musl-gcc.specs"
# Folders of Linux's uapi headers (what linux-libc-dev installs), copied into the sysroot.
KERNEL_HEADER_DIRS = (
    "linux",
    "asm",
    "asm-generic",
    "drm",
    "misc",
    "mtd",
    "rdma",
    "scsi",
    "sound",
    "video",
    "xen",
)
CXX_REFUSAL = (
    "C++ is not available with {name}: it would need a libstdc++ built for musl, which the "
    "distribution's cross compilers do not have; use --toolchain zig (libc++) or bootlin (libstdc++)"
)


def distro_names() -> list[str]:
    return names(FAMILY)


def distro_summary(name: str) -> str:
    """One line for `toolchain.list`: what the toolchain is and which ISAs have musl built."""
    data = manifests(FAMILY)[name]
    built = [t["isa"] for t in data["target"] if _is_built(name, t["isa"])]
    return (f"{name}: {data['description']}; musl built for: {', '.join(built) or 'none yet'} "
            f"(invoke toolchain.fetch --toolchain {name} --arch all)")  # fmt: skip


def _is_built(name: str, isa_name: str) -> bool:
    folders = cache_dir() / "toolchains"
    return any(is_complete(root / isa_name / "sysroot") for root in folders.glob(f"{name}-musl-*"))


def compiler_package(isa: Isa, gnu_triple: str) -> str:
    """The Debian package holding `<gnu_triple>-gcc`: the host's own gcc for its own ISA."""
    return "gcc" if isa == host_isa() else f"gcc-{gnu_triple.replace('_', '-')}"


class DistroGccToolchain(Toolchain):
    provider = "gcc"

    def __init__(self, name: str, isa: Isa, download: FetchOptions | None = None) -> None:
        super().__init__(isa)
        self.name = name
        self.manifest = manifests(FAMILY)[name]
        targets = {t["isa"]: t for t in self.manifest["target"]}
        if isa.name not in targets:
            raise UsageError(f"{name} has no compiler for {isa.name}")
        self.gnu_triple = targets[isa.name]["gnu_triple"]
        # ABI flags the row needs beyond the compiler's defaults: musl and every program alike
        self.abi_flags: tuple[str, ...] = tuple(targets[isa.name].get("abi_flags", ()))
        self.download = download or fetch_options()
        self.musl = self.manifest["musl"]

    @property
    def package(self) -> str:
        return compiler_package(self.isa, self.gnu_triple)

    def gnu_tool(self, tool: str) -> str:
        path = which(f"{self.gnu_triple}-{tool}")
        if path is None:
            raise MissingToolError(
                f"{self.gnu_triple}-{tool} not found: install Debian's {self.package} "
                f"(invoke toolchain.fetch --toolchain {self.name} --arch {self.isa.name} does it)"
            )
        return path

    @functools.cached_property
    def gcc_version(self) -> str:
        """The compiler's version line, e.g. 'aarch64-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0'."""
        out = subprocess.run(
            [self.gnu_tool("gcc"), "--version"], capture_output=True, text=True, check=True
        )
        return out.stdout.splitlines()[0].strip()

    @property
    def gcc_release(self) -> str:
        return self.gcc_version.rsplit(" ", 1)[-1]

    @property
    def root(self) -> Path:
        key = hashlib.sha256(
            f"{self.musl['sha256']}\n{self.isa.name}\n{self.gcc_version}{self._abi_key}".encode()
        ).hexdigest()
        return (
            cache_dir()
            / "toolchains"
            / f"{self.name}-musl-{self.musl['version']}-{key[:12]}"
            / self.isa.name
        )

    @property
    def _abi_key(self) -> str:
        return f"\n{' '.join(self.abi_flags)}" if self.abi_flags else ""  # unchanged keys without

    @property
    def sysroot(self) -> Path:
        return self.root / "sysroot"

    def is_cached(self) -> bool:
        return is_complete(self.sysroot)

    def sysroot_ready(self) -> Path:
        """musl built and installed for this compiler (once; later calls find it)."""
        with FileLock(str(self.sysroot) + ".lock"):
            if not is_complete(self.sysroot):
                self._build_musl()
        return self.sysroot

    def _build_musl(self) -> None:
        if self.sysroot.exists():
            shutil.rmtree(self.sysroot)  # an interrupted build
        tarball = fetch(Source(self.musl["url"], self.musl["sha256"]), self.download)
        source = extract(tarball, self.root / "src", strip_top=f"musl-{self.musl['version']}")
        build = self.root / "build"
        if build.exists():
            shutil.rmtree(build)
        shutil.copytree(source, build)
        log(f"building musl {self.musl['version']} for {self.isa.name} with {self.gcc_version}")
        env = {
            **os.environ,
            "CROSS_COMPILE": f"{self.gnu_triple}-",
            "CC": self.gnu_tool("gcc"),
            "CFLAGS": " ".join(("-Os", *self.abi_flags)),
        }
        logs = self.root / "logs"
        steps = (
            (
                "configure",
                [
                    "./configure",
                    f"--prefix={self.sysroot}",
                    f"--target={self.gnu_triple}",
                    "--disable-shared",
                    "--enable-wrapper=gcc",
                ],
            ),
            ("make", ["make", f"-j{os.cpu_count() or 1}"]),
            ("install", ["make", "install"]),
        )
        for what, cmd in steps:
            run(
                cmd,
                cwd=build,
                env=env,
                what=f"musl {what} for {self.isa.name}",
                log_file=logs / f"musl-{what}.log",
            )
        self._copy_kernel_headers()
        shutil.rmtree(build)
        (self.sysroot / COMPLETE_MARKER).write_text(
            f"musl {self.musl['version']}\n{self.gcc_version}\n"
        )

    def _copy_kernel_headers(self) -> None:
        """Linux's uapi headers for this ISA: the cross package's /usr/<triple>/include, or the
        host's /usr/include (asm/ under its multiarch folder) for the host's own ISA."""
        places = (
            Path("/usr") / self.gnu_triple / "include",
            Path("/usr/include") / self.gnu_triple,
            Path("/usr/include"),
        )
        include = self.sysroot / "include"
        for folder in KERNEL_HEADER_DIRS:
            found = next((p / folder for p in places if (p / folder).is_dir()), None)
            if found is None and folder in ("linux", "asm", "asm-generic"):
                raise MissingToolError(
                    f"Linux headers ({folder}/) for {self.isa.name} not found: install {self.package}"
                )
            if found is not None:
                shutil.copytree(found, include / folder, dirs_exist_ok=True)

    @functools.cached_property
    def _bin_dir(self) -> Path:
        sysroot = self.sysroot_ready()
        gcc = (self.gnu_tool("gcc"), *self.abi_flags, "-specs", str(sysroot / SPECS))
        commands = {"gcc": gcc, "cc": gcc}
        commands |= {
            tool: (self.gnu_tool(tool),) for tool in ("ar", "ranlib", "strip", "objcopy", "nm")
        }
        refusal = CXX_REFUSAL.format(name=self.name)
        config = DriverConfig(commands=commands, refused={"g++": refusal, "c++": refusal})
        bin_dir = self.root / "bin"
        install(bin_dir, self.triple, driver_program(), config)
        return bin_dir

    def bin_dir(self) -> Path:
        return self._bin_dir

    def identity(self) -> dict[str, str]:
        return {
            "provider": "gcc",
            "distribution": self.name,
            "gcc": self.gcc_release,
            "compiler": self.gcc_version,
            "musl": self.musl["version"],
            "musl_sha256": self.musl["sha256"],
        }

    def describe(self) -> str:
        return f"{self.name}: GCC {self.gcc_release} + musl {self.musl['version']} ({self.triple})"


def prepare_distro(name: str, isas: list[Isa], options: FetchOptions, sha256: str = "", trust: bool = False) -> list[str]:
    """`toolchain.fetch` / `setup --toolchain` for a distribution's cross GCC: install the
    compilers that are missing (as root), then build musl for each ISA (once)."""
    if sha256 or trust:
        raise UsageError(f"{name} is built from pinned sources: --sha256 and --trust are for GCC archives")
    toolchains = [DistroGccToolchain(name, isa, options) for isa in isas]
    missing = [tc.package for tc in toolchains if which(f"{tc.gnu_triple}-gcc") is None]
    if missing:
        apt_install(sorted(set(missing)))
    lines = []
    for toolchain in toolchains:
        state = "already built" if toolchain.is_cached() else "built"
        toolchain.bin_dir()
        lines.append(f"{toolchain.isa.name}: {toolchain.describe()} {state} in {toolchain.root}")
    return lines


def distro_table() -> list[str]:
    """`toolchain.list`: a line per distribution toolchain."""
    return [distro_summary(name) for name in distro_names()]
