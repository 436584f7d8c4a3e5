"""Which musl a build links statically, from its report's toolchain and the toolchain's
manifest: zig's bundled copy (its version read from the copy itself), the upstream release a
`debian-gcc` sysroot is built from, or what an archive toolchain's manifest says it ships.
Where musltool can read that musl's source, `source_text` gives a file of it (the CVE review
looks for fixes there); otherwise it says it cannot."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from musltool.toolchain.manifests import manifests
from musltool.toolchain.zigexe import zig_version

NONE = "NOASSERTION"


@dataclass(frozen=True)
class LinkedMusl:
    version: str
    where: str  # how musltool knows, in words
    download: str = NONE
    sha256: str = ""
    source_root: Path | None = None  # a readable copy of its source tree, if any
    pristine: bool = False  # the upstream release as published, no patches

    def source_text(self, relative: str) -> str | None:
        if self.source_root is None:
            return None
        path = self.source_root / relative
        return path.read_text(errors="replace") if path.is_file() else None


def zig_musl_root() -> Path:
    import ziglang

    return Path(ziglang.__file__).parent / "lib" / "libc" / "musl"


def _zig_musl(version: str) -> LinkedMusl:
    installed = zig_version()
    if version != installed:  # another zig built it: its musl is not the copy installed here
        return LinkedMusl(NONE, f"the copy bundled with zig {version} (zig {installed} is installed here: not readable)")
    root = zig_musl_root()
    header = root / "src" / "internal" / "version.h"
    found = re.search(r'#define VERSION "([^"]+)"', header.read_text()) if header.is_file() else None
    return LinkedMusl(found[1] if found else NONE, f"the copy bundled with zig {version} (src/internal/version.h)",
                      source_root=root)  # fmt: skip


def linked_musl(toolchain: Mapping[str, object]) -> LinkedMusl:
    """From the report's toolchain record: zig's, or a GCC toolchain's (`distribution` names its
    manifest: debian-gcc builds musl from a pinned release; an archive ships its own)."""
    if toolchain.get("provider") == "zig":
        return _zig_musl(str(toolchain.get("version", NONE)))
    name = str(toolchain.get("distribution", ""))
    musl = manifests().get(name, {}).get("musl")
    if isinstance(musl, dict) and musl.get("sha256") == toolchain.get("musl_sha256", musl.get("sha256")):
        return LinkedMusl(musl["version"], f"built by musltool from the upstream release ({name})",
                          musl["url"], musl["sha256"], pristine=True)  # fmt: skip
    version = str(toolchain.get("musl") or (musl if isinstance(musl, str) else NONE))
    if version != NONE:
        return LinkedMusl(version, f"as the {name or 'unnamed'} toolchain states (its patches are not known here)")
    return LinkedMusl(NONE, f"not known for toolchain {name or toolchain.get('provider') or 'unnamed'}")
