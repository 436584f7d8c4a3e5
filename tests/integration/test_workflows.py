"""The GitHub workflows, run here: every `run:` step of every job of ci.yml and release.yml,
as written, in a scratch copy of the checkout, in order, with the job's and step's env and
working-directory.

Stood in for (they cannot exist here), and only these:
- `actions/checkout`: the scratch copy is the checkout (the tracked files of this one);
- `actions/setup-python`: a venv with this Python (its site-packages visible, so the install
  step's dependencies are there; the package itself is installed into the venv by the step);
- `actions/upload-artifact`: each path pattern must match a file (`if-no-files-found: error`),
  and the files are kept (hidden ones left out, as v4 does) for `actions/download-artifact`,
  which puts each artifact a pattern matches in `path/<its name>`;
- secrets: the signing key is one the test makes;
- `sudo`: the tests run as root; it keeps `--preserve-env` and `VAR=value` meanings;
- `apt-get`: `update` does nothing; `install` checks that each package named is installed here;
- `gh`: `release view` finds no release, `create` and `upload` are recorded, and every file
  `upload` is given must exist.
Any other `uses:` fails the test; so do a `${{ }}` expression and a step key (`if:`,
`shell:` ...) it does not know. Steps run as GitHub runs them: `bash --noprofile --norc -eo
pipefail`.

Where this machine differs from GitHub's runner, said here: sources come from the tests'
download mirror (GitHub downloads from upstream), the cache is the test run's (GitHub starts
cold), the venv has this Python (the workflows ask for 3.12) and sees its site-packages, pip's
isolated build fetches setuptools from the package index, binfmt is already registered (so
`invoke setup --no-packages --no-docker` finds it done), and the host is Debian, not Ubuntu.

Builds a job's command would make exactly as one of this run's shared builds (hello,
musl-claims, BusyBox minimal and defconfig) are seeded from them, and `invoke build` finds
them up to date (a defconfig build verified with BusyBox's own testsuite too serves the job's
plain request: same binary, more evidence); one, x86_64's musl-claims, the job builds itself.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from musltool.isa import ALL, get_isa
from tests.integration.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
STEP_KEYS = {"name", "run", "uses", "with", "env", "working-directory"}
STOOD_IN_ACTIONS = ("actions/checkout@", "actions/setup-python@", "actions/upload-artifact@",
                    "actions/download-artifact@")
TAG = "v0.0.0-workflow-test"
BUILT_BY_THE_JOB = "x86_64"
RELEASED_HERE = ("x86_64", "s390x")  # the release's build jobs run here (the matrix has every row)  # its musl-claims is not seeded: the job builds and verifies it

SUDO = """#!/bin/sh
# stand-in for sudo: the tests run as root already
while [ $# -gt 0 ]; do
  case $1 in --preserve-env|-E) shift ;; *=*) export "$1"; shift ;; *) break ;; esac
done
exec "$@"
"""
APT_GET = """#!/bin/sh
# stand-in for apt-get: nothing is installed by a test; what a step installs must be here
case $1 in update) exit 0 ;; install) shift ;; *) echo "apt-get stand-in: $1?" >&2; exit 2 ;; esac
for package in "$@"; do
  case $package in -*) continue ;; esac
  dpkg-query -W -f='${Status}\\n' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    { echo "apt-get stand-in: $package is not installed here" >&2; exit 100; }
done
"""
GH = """#!/bin/sh
# stand-in for gh: records what it is asked; files to upload must exist
echo "$*" >> "$GH_LOG"
case "$1 $2" in
  "release view") exit 1 ;;
  "release create") exit 0 ;;
  "release upload") shift 3
    for f in "$@"; do case $f in --*) ;; *) [ -f "$f" ] || { echo "gh stand-in: no $f" >&2; exit 1; } ;; esac; done ;;
  *) echo "gh stand-in: $*?" >&2; exit 2 ;;
esac
"""


def workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def scratch_checkout(dest: Path) -> Path:
    """The tracked files of this checkout, as they are in its work tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file() or source.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name, follow_symlinks=False)
    return dest


@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> Path:
    """A venv standing in for setup-python, and the stand-in programs beside it."""
    home = tmp_path_factory.mktemp("runner")
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", home / "venv"], check=True
    )
    bin_dir = home / "venv" / "bin"
    (bin_dir / "invoke").write_text(f'#!/bin/sh\nexec "{bin_dir / "python"}" -m invoke "$@"\n')
    for name, text in {"sudo": SUDO, "apt-get": APT_GET, "gh": GH}.items():
        (bin_dir / name).write_text(text)
    for name in ("invoke", "sudo", "apt-get", "gh"):
        (bin_dir / name).chmod(0o755)
    return home


def expand(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("${{ " + name + " }}", value)
    assert "${{" not in text, f"an expression the test does not know: {text}"
    return text


def run_job(
    job: dict, checkout: Path, runner: Path, values: dict[str, str], mirror: str | None
) -> str:
    """Every step of a job, in order; what the steps printed (stdout and stderr)."""
    printed = []
    bin_dir = runner / "venv" / "bin"
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MUSLTOOL_TEST_"))
    }
    env = {
        **inherited,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "VIRTUAL_ENV": str(runner / "venv"),
        "GITHUB_REF_NAME": TAG,
        "GH_LOG": str(runner / "gh.log"),
        "MUSLTOOL_MIRRORS": mirror or "",  # the tests' download mirror, as everywhere
        **{k: expand(str(v), values) for k, v in job.get("env", {}).items()},
    }
    for step in job["steps"]:
        name = step.get("name") or step.get("uses") or step["run"]
        assert set(step) <= STEP_KEYS, (
            f"{name}: step keys the test does not know: {set(step) - STEP_KEYS}"
        )
        if "uses" in step:
            assert step["uses"].startswith(STOOD_IN_ACTIONS), f"{step['uses']} is not stood in here"
            if step["uses"].startswith("actions/upload-artifact@"):
                upload(step, checkout, runner / "artifacts", values)
            if step["uses"].startswith("actions/download-artifact@"):
                download(step, checkout, runner / "artifacts", values)
            continue
        step_env = {**env, **{k: expand(str(v), values) for k, v in step.get("env", {}).items()}}
        cwd = checkout / step.get("working-directory", ".")
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", expand(step["run"], values)],
                              cwd=cwd, env=step_env, capture_output=True, text=True, timeout=1800)  # fmt: skip
        assert done.returncode == 0, (
            f"step {name!r} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        printed.append(done.stdout + done.stderr)
    return "".join(printed)


def upload(step: dict, checkout: Path, store: Path, values: dict[str, str]) -> None:
    """upload-artifact: each pattern must match (if-no-files-found: error); the matches are
    kept under the artifact's name, relative to their common folder, hidden files left out
    (as upload-artifact v4 does)."""
    patterns = expand(step["with"]["path"], values).split()
    matched = []
    for pattern in patterns:
        found = glob.glob(pattern, root_dir=checkout)
        assert found, f"{step['with']['name']}: nothing matches {pattern}"
        for hit in found:
            hits = [hit] if (checkout / hit).is_file() else [str(p.relative_to(checkout)) for p in (checkout / hit).rglob("*") if p.is_file()]
            matched += [h for h in hits if not any(part.startswith(".") for part in Path(h).parts)]
    root = Path(os.path.commonpath([str(Path(m).parent) for m in matched]))
    artifact = store / expand(step["with"]["name"], values)
    for hit in matched:
        (artifact / Path(hit).relative_to(root)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(checkout / hit, artifact / Path(hit).relative_to(root))


def download(step: dict, checkout: Path, store: Path, values: dict[str, str]) -> None:
    """download-artifact with a pattern: each artifact into path/<its name>."""
    into = checkout / step["with"]["path"]
    for artifact in sorted(store.glob(expand(step["with"]["pattern"], values))):
        shutil.copytree(artifact, into / artifact.name)


def seed(dist: Path, isa: str, into: Path) -> None:
    """A verified build of this run's shared ones, where a job's command would make the same
    (same recipe, options and inputs: `invoke build` finds it up to date and says so)."""
    shutil.copytree(dist / isa, into / isa, symlinks=True, dirs_exist_ok=True)


def test_ci_and_release_workflows_run_as_written(runner, tmp_path, mirror_url, shared):
    ci = workflow("ci.yml")
    assert set(ci["jobs"]) == {"lint-and-unit", "build"}
    scratch = scratch_checkout(tmp_path / "lint-and-unit")
    run_job(ci["jobs"]["lint-and-unit"], scratch, runner, {}, mirror_url)
    imported = subprocess.run([runner / "venv" / "bin" / "python", "-c", "import musltool; print(musltool.__file__)"],
                              capture_output=True, text=True, check=True, cwd=tmp_path).stdout  # fmt: skip
    assert imported.startswith(str(scratch)), "the install step installed the scratch checkout"

    build = ci["jobs"]["build"]
    isas = build["strategy"]["matrix"]["isa"]
    assert isas == [isa.name for isa in ALL]  # the matrix follows the ISA table's --arch all
    built: dict[str, Path] = {}
    for isa in isas:
        checkout = scratch_checkout(tmp_path / f"build-{isa}")
        seed(shared.dist("hello", isa), isa, checkout / "dist")
        built_here = isa == BUILT_BY_THE_JOB
        if not built_here:
            seed(shared.dist("musl-claims", isa), isa, checkout / "dist")
        seed(shared.dist("busybox", isa, config="minimal"), isa, checkout / "dist-minimal")
        seed(shared.dist("busybox", isa), isa, checkout / "dist")
        printed = run_job(build, checkout, runner, {"matrix.isa": isa}, mirror_url)
        assert f"hello for {isa} is up to date" in printed
        if built_here:  # one build the job makes itself, in its checkout and venv
            assert re.search(rf"musl-claims for {isa}: \d+ bytes, verified with docker", printed), printed
        else:
            assert f"musl-claims for {isa} is up to date" in printed
        assert printed.count(f"busybox for {isa} is up to date") == 2, printed
        built[isa] = checkout / "dist"
        assert (checkout / "dist" / f"busybox-1.37.0-{isa}.tar.gz").is_file()
        assert (checkout / "dist-minimal" / isa / "busybox").is_file()

    # The release on a tag: a build job per ISA (fan-out; here two of them, seeded from this
    # run's shared builds like the CI jobs), then the publish job gathers, signs and checks.
    release = workflow("release.yml")
    assert set(release["jobs"]) == {"build", "publish"}
    assert release["jobs"]["build"]["strategy"]["matrix"]["isa"] == [isa.name for isa in ALL]
    shutil.rmtree(runner / "artifacts", ignore_errors=True)
    for isa in RELEASED_HERE:
        checkout = scratch_checkout(tmp_path / f"release-build-{isa}")
        seed(shared.dist("hello", isa), isa, checkout / "dist")
        seed(shared.dist("busybox", isa), isa, checkout / "dist")
        printed = run_job(release["jobs"]["build"], checkout, runner, {"matrix.isa": isa}, mirror_url)
        assert f"hello for {isa} is up to date" in printed and f"busybox for {isa} is up to date" in printed
    key = tmp_path / "signing.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True)
    checkout = scratch_checkout(tmp_path / "publish")
    (runner / "gh.log").unlink(missing_ok=True)
    values = {"github.token": "stand-in-token", "secrets.MUSLTOOL_SIGNING_KEY": key.read_text().strip()}
    printed = run_job(release["jobs"]["publish"], checkout, runner, values, mirror_url)
    assert "release: every check passed" in printed
    asked = (runner / "gh.log").read_text().splitlines()
    assert asked[0] == f"release view {TAG}"
    assert asked[1].startswith(f"release create {TAG} --verify-tag")
    uploaded = {word for word in asked[2].split()[3:] if not word.startswith("--")}
    arches = [get_isa(isa).asset_arch for isa in RELEASED_HERE]
    expected = {f"release/{r}-{v}-linux-{arch}-musl{suffix}"
                for r, v in (("hello", "1.0.0"), ("busybox", "1.37.0")) for arch in arches
                for suffix in (".tar.gz", ".tar.gz.sha256", ".spdx.json", ".vex.json",
                               ".test-result.dsse.json", ".provenance.dsse.json")}  # fmt: skip
    assert expected | {"release/SHA256SUMS", "release/hello.manifest.json", "release/busybox.manifest.json"} == uploaded
    assert not list(checkout.glob("**/signing.pem")), "the signing key was left on the runner's disk"
