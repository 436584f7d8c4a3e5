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
    root = zig_musl_root()
    header = root / "src" / "internal" / "version.h"
    found = re.search(r'#define VERSION "([^"]+)"', header.read_text()) if header.is_file() else None
    return LinkedMusl(found[1] if found else NONE, f"the copy bundled with zig {version} (src/internal/version.h)",
                      source_root=root)  # fmt: skip


def linked_musl(toolchain: Mapping[str, object]) -> LinkedMusl:
    provider = str(toolchain.get("provider", ""))
    if provider == "zig":
        return _zig_musl(str(toolchain.get("version", NONE)))
    manifest = manifests().get(provider, {})
    musl = manifest.get("musl")
    if isinstance(musl, dict):  # built from a pinned upstream release (debian-gcc)
        return LinkedMusl(musl["version"], f"built by musltool from the upstream release ({provider})",
                          musl["url"], musl["sha256"], pristine=True)  # fmt: skip
    if isinstance(musl, str):
        return LinkedMusl(musl, f"as the {provider} toolchain's manifest states (its patches are not known here)")
    return LinkedMusl(NONE, f"not known for toolchain {provider or 'unnamed'}")
