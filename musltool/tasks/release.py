"""Release tasks: `release` (the fan-in of per-ISA output folders into one release folder) and
`verify-release` (a release folder checked as a user would)."""

from __future__ import annotations

from pathlib import Path

from invoke import task

from musltool import settings
from musltool.cli import one_line_errors, split_list


@task(
    iterable=["from_"],
    help={
        "from_": "an output folder holding packaged builds (invoke package); repeat or comma-list them",
        "out": "the release folder to write (assets, .sha256 files, SBOMs, VEX, statements, SHA256SUMS)",
        "sign_key": "a PEM private key (Ed25519 or ECDSA P-256) that signs each asset's test result and provenance",
    }
)
@one_line_errors
def release(c, from_=None, out="release", sign_key=""):
    """Gather per-ISA output folders into one release, assets named as installers expect.

    Each folder's tarballs are taken only where they are what its manifest and its verified
    build describe; two folders offering the same recipe and ISA must agree.
    """
    from musltool.attest import SigningKey
    from musltool.errors import UsageError
    from musltool.release import gather

    settings.source_date_epoch()
    folders = [Path(f) for f in split_list(from_)]
    if not folders:
        raise UsageError("give --from FOLDER (one or more output folders holding packaged builds)")
    key = SigningKey.load(Path(sign_key)) if sign_key else None
    for name in gather(folders, Path(out), key):
        print(f"{Path(out) / name}")
    print(f"{Path(out) / 'SHA256SUMS'}" + ("" if key else " (unsigned: give --sign-key to sign the statements)"))


@task(
    name="verify-release",
    help={"folder": "the release folder", "key": "the PEM public key the statements must be signed with"},
)
@one_line_errors
def verify_release(c, folder="release", key=""):
    """Check a release: checksums, signatures, and that every ISA claimed was tested and passed."""
    from musltool.attest import load_public_key
    from musltool.errors import UsageError
    from musltool.release import verify_release as check

    if not key:
        raise UsageError("give --key PUBLIC.pem: the key the release's statements must be signed with")
    for line in check(Path(folder), load_public_key(Path(key))):
        print(line)
    print(f"{folder}: every check passed")
