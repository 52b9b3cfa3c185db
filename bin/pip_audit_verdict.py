"""Reads a pip-audit JSON report and decides: fail on any known vulnerability; warn (or fail,
when strict) when nothing could be audited. Used by bin/audit-deps; tested in tests/test_ops.py.

Usage: pip_audit_verdict.py REPORT.json PIP_AUDIT_EXIT_STATUS STRICT(0|1)
"""

from __future__ import annotations

import json
import sys
from typing import Any


def verdict(report: dict[str, Any] | None, *, strict: bool) -> tuple[int, list[str]]:
    """The exit status and the lines to print for a pip-audit report (None: no report)."""
    if report is None or "dependencies" not in report:
        return 1, ["pip-audit produced no report"]
    dependencies = report["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    lines = []
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            lines.append(f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixes})")
    if vulnerable:
        return 1, lines
    if audited == 0:
        lines.append(
            f"WARNING: pip-audit could not reach a vulnerability database; none of {len(dependencies)} "
            "packages was audited."
        )
        return (1 if strict else 0), lines
    lines.append(f"pip-audit: {audited} packages audited, no known vulnerabilities; {len(skipped)} not audited.")
    return 0, lines


def main(argv: list[str]) -> int:
    path, status, strict = argv[1], int(argv[2]), argv[3] == "1"
    try:
        with open(path) as handle:
            report = json.load(handle)
    except (OSError, ValueError):
        report = None
    code, lines = verdict(report, strict=strict)
    for line in lines:
        print(line, file=sys.stderr)
    if report is None:
        print(f"(pip-audit exit status {status})", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
