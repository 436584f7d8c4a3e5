"""BusyBox's upstream testsuite runs in a bwrap sandbox (musltool/kinds/busybox/upstream.py):
here a stand-in `runtest` (a shell script in a source tree made here) reports on the sandbox
it finds itself in, one PASS/FAIL line per property, the way the real runtest reports tests.

What must hold: the host is read-only (a sentinel folder outside the work folder cannot be
written), /tmp is private both ways, the network is only loopback, the processes are its own,
the host name and hosts file are the sandbox's, the environment is the one given, the test
files left out are gone, symlinks stay symlinks, the binary is executable.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from musltool.kinds.busybox.upstream import HOST_PATH, run_testsuite

RUNTEST = r"""#!/bin/sh
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "PASS: $name"; else echo "FAIL: $name"; fi; }
check "host name" test "$(hostname)" = musltool
check "hosts file" grep -q '^127.0.1.1	musltool.musltool.test	musltool$' /etc/hosts
check "sentinel seen" test -f "$SENTINEL/seen"
check "sentinel not writable" sh -c "! touch '$SENTINEL/written' 2>/dev/null"
check "root not writable" sh -c "! mkdir '/$ROOT_PROBE' 2>/dev/null"
check "host /tmp not seen" test ! -e "/tmp/$HOST_TMP_MARK"
check "own /tmp writable" sh -c "echo x > /tmp/$INNER_TMP_MARK"
check "only loopback" test "$(awk 'NR > 2 { print $1 }' /proc/net/dev)" = lo:
check "own processes" test "$(ls /proc | grep -c '^[0-9]')" -lt 10
check "environment" test "$PATH|$LC_ALL|$TZ|$HOME|$SHELL|$EXTRA" = "$WANT_ENV"
check "in the testsuite" test "${PWD##*/}" = testsuite -a -x ./runtest
check "left out" test ! -e bc.tests
check "kept" test -e cat.tests
check "symlink kept" test -L linked.tests
check "binary executable" sh -c 'test "$(stat -c %a ../busybox)" = 755 && grep -q "^fake busybox" ../busybox'
check "config" grep -qx CONFIG_CAT=y ../.config
check "echo source" test -f ../scripts/echo.c
echo "PASS: stderr read too" >&2
printf '%3000s\n' tail | tr ' ' z
"""


def test_the_testsuite_runs_sandboxed(tmp_path):
    src = tmp_path / "src"
    (src / "testsuite").mkdir(parents=True)
    (src / "scripts").mkdir()
    (src / "scripts" / "echo.c").write_text("int main(void) { return 0; }\n")
    runtest = src / "testsuite" / "runtest"
    runtest.write_text(RUNTEST)
    runtest.chmod(0o755)
    for name in ("bc.tests", "cat.tests"):
        (src / "testsuite" / name).write_text("")
    (src / "testsuite" / "linked.tests").symlink_to("cat.tests")
    binary = tmp_path / "busybox"
    binary.write_text("fake busybox\n")
    binary.chmod(0o600)
    # a host folder outside /tmp (the sandbox's /tmp is its own): seen inside, not writable
    sentinel = Path(tempfile.mkdtemp(prefix="sandbox-sentinel-", dir="/var/tmp"))
    (sentinel / "seen").write_text("host\n")
    host_mark, inner_mark = f"sandbox-probe-{uuid.uuid4().hex}", f"sandbox-probe-{uuid.uuid4().hex}"
    root_probe = f"sandbox-probe-{uuid.uuid4().hex}"
    host_file = f"/tmp/{host_mark}"
    with open(host_file, "w") as marker:
        marker.write("host\n")
    try:
        env = {
            "SENTINEL": str(sentinel),
            "ROOT_PROBE": root_probe,
            "HOST_TMP_MARK": host_mark,
            "INNER_TMP_MARK": inner_mark,
            "EXTRA": "1",
            "WANT_ENV": f"{HOST_PATH}|C|UTC|/tmp|/bin/sh|1",
        }
        tests, tail = run_testsuite(src, binary, "CONFIG_CAT=y\n", env, left_out=("bc.tests",))
        written = sorted(p.name for p in sentinel.iterdir())
        root_written = os.path.exists(f"/{root_probe}")
    finally:
        os.unlink(host_file)
        shutil.rmtree(sentinel)
        if os.path.isdir(f"/{root_probe}"):
            os.rmdir(f"/{root_probe}")
    outcomes = {t.name: t.outcome for t in tests}
    assert outcomes == dict.fromkeys(outcomes, "PASS"), outcomes
    assert len(outcomes) == 18
    assert written == ["seen"] and not root_written
    assert not os.path.exists(f"/tmp/{inner_mark}")
    assert tail == ("z" * 2996 + "tail\n")[-2000:]


SHARDED_RUNTEST = r"""#!/bin/sh
# One shard: say which applets it was given and where, once every shard has started.
shard=$(basename "$(dirname "$PWD")")
touch "/tmp/started.$shard"
tries=0
while [ "$(ls /tmp/started.* | wc -l)" -lt "$SHARDS" ] && [ $tries -lt 300 ]; do
    sleep 0.1; tries=$((tries + 1))
done
if [ "$(ls /tmp/started.* | wc -l)" -ge "$SHARDS" ]; then echo "PASS: together $shard"; else echo "FAIL: together $shard"; fi
for applet in "$@"; do echo "PASS: $applet in $shard"; done
"""


def test_shards_run_side_by_side_each_applet_once_in_order(tmp_path):
    """With the binary's applets, runtest runs in SHARDS copies at once (each waits here until
    all have started: run one after another, the first would give up), and the shards share
    out "busybox" and every applet, each once, in order, quoted as the shell needs."""
    from musltool.kinds.busybox.upstream import SHARDS

    src = tmp_path / "src"
    (src / "testsuite").mkdir(parents=True)
    (src / "scripts").mkdir()
    (src / "scripts" / "echo.c").write_text("int main(void) { return 0; }\n")
    (src / "testsuite" / "runtest").write_text(SHARDED_RUNTEST)
    (src / "testsuite" / "runtest").chmod(0o755)
    binary = tmp_path / "busybox"
    binary.write_text("fake busybox\n")
    applets = ["true", "[", "[[", "cat", "awk", "zcat", "busybox"]
    tests, _ = run_testsuite(src, binary, "", {"SHARDS": str(SHARDS)}, applets=applets)
    outcomes = [(t.name, t.outcome) for t in tests]
    together = [name for name, outcome in outcomes if name.startswith("together")]
    assert SHARDS >= 2 and len(together) == SHARDS
    assert all(outcome == "PASS" for _, outcome in outcomes), outcomes
    ran = [name.split(" in ") for name, _ in outcomes if " in " in name]
    assert sorted(applet for applet, _ in ran) == sorted(set(applets))
    by_shard: dict[str, list[str]] = {}
    for applet, shard in ran:
        by_shard.setdefault(shard, []).append(applet)
    assert len(by_shard) == SHARDS
    for names in by_shard.values():  # runtest's order: busybox, then the applets sorted
        assert names == sorted(names, key=lambda name: (name != "busybox", name))


def test_a_run_stopped_at_its_time_limit_fails(tmp_path, monkeypatch):
    from musltool.kinds.busybox import upstream

    src = tmp_path / "src"
    (src / "testsuite").mkdir(parents=True)
    (src / "scripts").mkdir()
    (src / "scripts" / "echo.c").write_text("int main(void) { return 0; }\n")
    (src / "testsuite" / "runtest").write_text("#!/bin/sh\necho 'PASS: first'\nexec sleep 60\n")
    (src / "testsuite" / "runtest").chmod(0o755)
    binary = tmp_path / "busybox"
    binary.write_text("fake busybox\n")
    monkeypatch.setattr(upstream, "RUN_LIMIT", 3)
    tests, _ = run_testsuite(src, binary, "", {}, applets=["true"])
    assert [(t.name, t.outcome) for t in tests] == [("first", "PASS"), ("first", "PASS"),
                                                    ("the testsuite ends within 3 s", "FAIL")]  # fmt: skip
