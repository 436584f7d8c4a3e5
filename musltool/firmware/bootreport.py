"""The boot report (`dist/<isa>/boot.json`): what a boot of the firmware proved, as one typed
record, as the build report is for a build. No transcript and no timestamps in what bundles
carry: the same images and kernel give the same summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from musltool import __version__
from musltool.report import ReportError, Verification


@dataclass(frozen=True)
class BootReport:
    isa: str
    machine: str
    cpu: str
    kernel: dict[str, str]  # where it came from, and its sha256
    images: dict[str, str]  # file name -> sha256 of the initramfs and the disk image
    system_sha256: str  # the system binary (BusyBox) in the images
    command: tuple[str, ...]
    verification: Verification
    # Parts proven on the booted system, and how many together with user mode, of how many.
    functional: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    musltool: str = __version__

    @property
    def passed(self) -> bool:
        return self.verification.passed

    def proves(self, images: dict[str, str], kernel_sha256: str) -> bool:
        """A passing boot of these very images with this very kernel."""
        return self.passed and self.images == images and self.kernel.get("sha256") == kernel_sha256

    def summary(self) -> dict[str, Any]:
        """What a boot proved, without its timings (so a release manifest is reproducible)."""
        return {"machine": self.machine, "cpu": self.cpu, "passed": self.passed,
                "checks": self.verification.counts(), "functional_applets": self.functional}  # fmt: skip

    def to_json(self) -> str:
        data = {
            "isa": self.isa, "machine": self.machine, "cpu": self.cpu, "kernel": self.kernel,
            "images": self.images, "busybox_sha256": self.system_sha256, "system_sha256": self.system_sha256,
            "command": list(self.command),
            "verification": self.verification.as_dict(), "functional_applets": self.functional,
            "timings": {k: round(v, 1) for k, v in self.timings.items()}, "musltool": self.musltool,
        }  # fmt: skip
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> BootReport:
        try:
            data = json.loads(text)
            return cls(
                isa=str(data["isa"]), machine=str(data["machine"]), cpu=str(data["cpu"]),
                kernel={str(k): str(v) for k, v in data["kernel"].items()},
                images={str(k): str(v) for k, v in data["images"].items()},
                system_sha256=str(data.get("system_sha256") or data["busybox_sha256"]), command=tuple(map(str, data["command"])),
                verification=Verification.from_dict(data["verification"]),
                functional=dict(data.get("functional_applets", {})),
                timings={str(k): float(v) for k, v in data.get("timings", {}).items()},
                musltool=str(data.get("musltool", "")),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ReportError(f"not a musltool boot report: {exc}") from exc
