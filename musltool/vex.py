"""Known CVEs as data, turned into an OpenVEX document per artifact.

The reviewed lists are `recipes/<recipe>/cves.toml` (a program's own CVEs, by the applets or
components they are in) and `toolchains/cves/musl.toml` (musl's, which every build links).
Each statement is `affected`, `not_affected` (vulnerable_code_not_present: none of the applets
is in the build), `fixed` (the linked musl's source carries the fix) or `under_investigation`
(not reviewed for this version, or a source musltool cannot read): unknown is said as unknown,
and what is affected is shown by `package`, never left out.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musltool import __version__
from musltool.errors import UsageError
from musltool.libc import LinkedMusl, linked_musl
from musltool.recipes import Recipe
from musltool.report import BuildReport
from musltool.sbom import purl, spdx_time
from musltool.settings import builtin_toolchains_dir

CONTEXT = "https://openvex.dev/ns/v0.2.0"
CVE_FILE = "cves.toml"


@dataclass(frozen=True)
class Cve:
    id: str
    summary: str
    source: str  # where the reviewed record is
    remedy: str
    versions: tuple[str, ...]  # the versions it was reviewed as present in
    applets: tuple[str, ...] = ()  # a multi-call program's parts it is in
    fix_file: str = ""
    fix_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    cve: Cve
    component: str  # the program, or "musl"
    status: str
    detail: str  # the impact or action statement, in words

    def as_openvex(self, product: dict[str, Any]) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "vulnerability": {"name": self.cve.id, "description": self.cve.summary, "@id": self.cve.source},
            "products": [product | {"subcomponents": [{"@id": self.component}]}],
            "status": self.status,
        }
        if self.status == "not_affected":
            statement |= {"justification": "vulnerable_code_not_present", "impact_statement": self.detail}
        elif self.status == "affected":
            statement["action_statement"] = self.detail
        else:
            statement["status_notes"] = self.detail
        return statement


def load_cves(path: Path) -> list[Cve]:
    if not path.is_file():
        return []
    try:
        entries = tomllib.loads(path.read_text()).get("cve", [])
        return [Cve(e["id"], e["summary"], e["source"], e["remedy"], tuple(e["versions"]), tuple(e.get("applets", ())),
                    e.get("fix_file", ""), tuple(e.get("fix_lines", ()))) for e in entries]  # fmt: skip
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not a CVE list musltool reads ({type(exc).__name__}: {exc})") from exc


def program_statements(report: BuildReport, recipe: Recipe) -> list[Statement]:
    if recipe.folder is None:
        return []
    applets = set(report.details.get("applets", ()))
    statements = []
    for cve in load_cves(recipe.folder / CVE_FILE):
        where = ", ".join(cve.applets) or recipe.name
        if report.version not in cve.versions:
            statements.append(Statement(cve, recipe.name, "under_investigation",
                                        f"not reviewed for {recipe.name} {report.version}"))  # fmt: skip
        elif cve.applets and not applets & set(cve.applets):
            statements.append(Statement(cve, recipe.name, "not_affected",
                                        f"{where} is not among this build's {len(applets)} applets"))  # fmt: skip
        else:
            statements.append(Statement(cve, recipe.name, "affected", cve.remedy))
    return statements


def musl_statement(cve: Cve, musl: LinkedMusl) -> Statement:
    text = musl.source_text(cve.fix_file) if cve.fix_file else None
    if text is not None and cve.fix_lines and all(line in text for line in cve.fix_lines):
        return Statement(cve, "musl", "fixed", f"musl {musl.version}, {musl.where}: {cve.fix_file} carries the fix")
    if musl.version not in cve.versions:
        return Statement(cve, "musl", "under_investigation", f"musl {musl.version} ({musl.where}) was not reviewed for it")
    if text is not None or musl.pristine:  # its source lacks the fix, or it is the unpatched release
        return Statement(cve, "musl", "affected", cve.remedy)
    return Statement(cve, "musl", "under_investigation",
                     f"musl {musl.version}, {musl.where}: whether its builder patched it is not known here")  # fmt: skip


def statements(report: BuildReport, recipe: Recipe) -> list[Statement]:
    musl = linked_musl(report.toolchain)
    musl_cves = load_cves(builtin_toolchains_dir() / "cves" / "musl.toml")
    return [*program_statements(report, recipe), *(musl_statement(cve, musl) for cve in musl_cves)]


def _product(report: BuildReport) -> dict[str, Any]:
    ident = purl(report.recipe, report.version, arch=report.isa)
    return {"@id": ident, "identifiers": {"purl": ident}, "hashes": {"sha-256": report.sha256}}


def vex_document(artifact_name: str, artifact_sha256: str, report: BuildReport, recipe: Recipe,
                 also: tuple[tuple[BuildReport, Recipe], ...] = ()) -> dict[str, Any]:  # fmt: skip
    """The artifact's VEX: each reviewed CVE of its build, and of the builds it also holds
    (an image laid on the system build holds it too)."""
    builds = ((report, recipe), *also)
    return {
        "@context": CONTEXT,
        "@id": f"https://musltool.invalid/vex/{artifact_name}-{artifact_sha256}",
        "author": f"musltool {__version__}",
        "timestamp": spdx_time(),
        "version": 1,
        "statements": [s.as_openvex(_product(r)) for r, rec in builds for s in statements(r, rec)],
    }


def cve_table(builds: list[tuple[str, BuildReport]], recipe: Recipe) -> list[str]:
    """Known CVEs and their status per build, one line each (ISAs with the same status together)."""
    rows: dict[tuple[str, str, str, str], list[str]] = {}
    for isa, report in builds:
        for s in statements(report, recipe):
            rows.setdefault((s.cve.id, s.component, s.status, s.detail), []).append(isa)
    if not rows:
        return [f"known CVEs: none reviewed for {recipe.name}"]
    return ["known CVEs (reviewed lists; VEX beside each tarball):"] + [
        f"  {cve} {component}: {status} on {', '.join(isas)}: {detail}"
        for (cve, component, status, detail), isas in sorted(rows.items())
    ]
