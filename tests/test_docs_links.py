"""Every document the code and the docs point to is in the repository, anchor included.

A comment that sends the reader to a file outside the repository (or to a section that was
renamed) is a dead end; this walks every tracked source, template and document for `*.md`
mentions and resolves each one.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MENTION = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)(?:#([\w-]+))?")
TEXT_SUFFIXES = {".py", ".md", ".html", ".txt", ".toml", ".cfg", ".yml", ".yaml", ".sh", ""}


def _tracked_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    paths = [ROOT / n for n in names.splitlines() if Path(n).suffix in TEXT_SUFFIXES and (ROOT / n).is_file()]
    return [p for p in paths if p != Path(__file__).resolve()]  # this file names a missing one on purpose


def _slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    text = document.read_text()
    headings = {_slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, flags=re.M)}
    explicit = set(re.findall(r"<a (?:id|name)=\"([\w-]+)\"", text))
    return headings | explicit


def _resolve(mention: str, where: Path) -> Path | None:
    for base in (where.parent, ROOT, ROOT / "docs"):
        candidate = (base / mention).resolve()
        if candidate.is_file() and ROOT in candidate.parents:
            return candidate
    return None


def test_every_document_mentioned_is_in_the_repository_with_its_anchor():
    files = _tracked_files()
    assert any(f.name == "clinical-rules.md" for f in files), "the walk must see the docs"
    dead: list[str] = []
    resolved = 0
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            for match in MENTION.finditer(line):
                mention, anchor = match.group(1), match.group(2)
                target = _resolve(mention, path)
                if target is None:
                    dead.append(f"{path.relative_to(ROOT)}:{number}: {mention} is not in the repository")
                elif anchor and anchor not in _anchors(target):
                    dead.append(f"{path.relative_to(ROOT)}:{number}: {mention}#{anchor} has no such section")
                else:
                    resolved += 1
    assert dead == []
    assert resolved > 50, "the code and the docs point to the docs in many places"


def test_a_document_outside_the_repository_or_a_missing_section_is_found():
    where = ROOT / "carecoord" / "models" / "patients.py"
    assert _resolve("docs/clinical-rules.md", where) == ROOT / "docs" / "clinical-rules.md"
    assert _resolve("NOTES-FROM-ELSEWHERE.md", where) is None
    assert "grading" in _anchors(ROOT / "docs" / "clinical-rules.md")
    assert "no-such-section" not in _anchors(ROOT / "docs" / "clinical-rules.md")
