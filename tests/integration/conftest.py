"""Integration tests need docker, qemu-user-static and binfmt: missing parts fail, never skip."""

from __future__ import annotations

import pytest

from musltool.container import require_docker
from musltool.isa import ISAS
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
