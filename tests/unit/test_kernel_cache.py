"""A cached kernel is reused only while it carries the modules the manifest names now."""

from __future__ import annotations

import json
from pathlib import Path

from musltool.firmware.kernels import _cached, pins


def test_a_cached_kernel_with_other_modules_is_fetched_again(tmp_path: Path) -> None:
    pin = pins()["x86_64"]
    marker = tmp_path / "kernel.json"
    assert not _cached(marker, pin)
    facts = {"image": "vmlinuz", "release": "6.12", "modules": []}
    for wanted, cached in ((None, False), (["loop"], False), (sorted(pin.modules), True)):
        marker.write_text(json.dumps(facts | ({"wanted": wanted} if wanted else {})))
        assert _cached(marker, pin) is cached, wanted
