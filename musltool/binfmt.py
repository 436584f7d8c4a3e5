"""binfmt_misc: whether the kernel runs an ISA's binaries through qemu (even inside
containers, which needs the F flag), and registering Debian's qemu rules."""

from __future__ import annotations

from pathlib import Path

from musltool import emulators
from musltool.errors import MissingToolError
from musltool.isa import Isa, runs_natively
from musltool.process import run

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
BINFMT_CONF_DIRS = (Path("/usr/lib/binfmt.d"), Path("/etc/binfmt.d"))


def binfmt_entry(isa: Isa) -> Path:
    return BINFMT_DIR / isa.binfmt_name


def binfmt_ready(isa: Isa) -> tuple[bool, str]:
    """Whether the kernel runs this ISA's binaries through qemu, even inside containers."""
    if runs_natively(isa):
        return True, "native"
    entry = binfmt_entry(isa)
    if not entry.exists():
        return False, f"binfmt entry {isa.binfmt_name} not registered"
    text = entry.read_text()
    if not text.startswith("enabled"):
        return False, f"binfmt entry {isa.binfmt_name} is disabled"
    flags = next(
        (line.split(":", 1)[1] for line in text.splitlines() if line.startswith("flags")), ""
    )
    if "F" not in flags:
        return False, f"binfmt entry {isa.binfmt_name} lacks the F flag (needed in containers)"
    wanted = emulators.interpreter(isa)
    interpreter = next((line.split(" ", 1)[1] for line in text.splitlines() if line.startswith("interpreter ")), "")
    if wanted and interpreter != wanted and not emulators.same_pin(isa, interpreter):
        return False, f"binfmt entry {isa.binfmt_name} runs {interpreter}, not musltool's {wanted}"
    return True, f"{isa.binfmt_name} (flags{flags})"


def _binfmt_rule(isa: Isa) -> str:
    """Debian's registration line for the ISA, with the F flag (interpreter opened now)."""
    fetched = emulators.binfmt_rule(isa)
    if fetched:
        head, flags = fetched.rsplit(":", 1)
        return f"{head}:{''.join(sorted(set(flags) | {'F'}))}"
    for folder in BINFMT_CONF_DIRS:
        conf = folder / f"{isa.binfmt_name}.conf"
        if conf.is_file():
            rule = conf.read_text().strip()
            head, flags = rule.rsplit(":", 1)
            return f"{head}:{''.join(sorted(set(flags) | {'F'}))}"
    raise MissingToolError(f"no binfmt rule for {isa.binfmt_name}: install qemu-user-static")


def register_binfmt(isa: Isa) -> str:
    """Register qemu for the ISA in binfmt_misc; already registered with F is fine."""
    ok, detail = binfmt_ready(isa)
    if ok:
        return f"{isa.name}: {detail}, already registered"
    if not (BINFMT_DIR / "register").exists():
        run(
            ["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT_DIR)],
            error=MissingToolError,
            what="mounting binfmt_misc",
        )
    entry = binfmt_entry(isa)
    if entry.exists():
        entry.write_text("-1")  # registered without F or disabled: replace it
    try:
        (BINFMT_DIR / "register").write_text(_binfmt_rule(isa))
    except OSError as exc:
        if not binfmt_ready(isa)[0]:  # another process may have registered it meanwhile
            raise MissingToolError(f"cannot register {isa.binfmt_name}: {exc.strerror}") from exc
    return f"{isa.name}: registered {isa.binfmt_name}"
