"""Integration tests need docker, qemu-user-static and binfmt: missing parts fail, never skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from musltool.build import BuildOptions, build
from musltool.container import require_docker
from musltool.isa import ISAS
from musltool.recipes import load_recipe
from musltool.runners import DockerRunner, QemuRunner


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def host_parts_present():
    """Fails every integration test at once, with the reason, if a host part is missing."""
    require_docker()
    for isa in ISAS:
        DockerRunner().check_ready(isa)
        QemuRunner().check_ready(isa)


@pytest.fixture(scope="session")
def busybox_minimal_dist(tmp_path_factory, mirror_url) -> Path:
    """BusyBox minimal built and verified for all four ISAs, once for the session."""
    dist = tmp_path_factory.mktemp("minimal") / "dist"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MUSLTOOL_MIRRORS", mirror_url)
        for isa in ISAS:
            build(load_recipe("busybox"), isa, BuildOptions(config="minimal", dist=dist))
    return dist
