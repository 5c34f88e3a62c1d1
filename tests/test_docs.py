"""The documentation keeps up with the code: every error class is in the catalogue, and the
README's and the docs' relative links point at files of this repository."""

from __future__ import annotations

import inspect
import pathlib
import re

import pytest

import hetensor as ht

ROOT = pathlib.Path(__file__).parent.parent
CATALOGUE = ROOT / "docs" / "errors.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _headings() -> set[str]:
    return set(re.findall(r"^###\s+`?(\w+)`?\s*$", CATALOGUE.read_text(), re.M))


@pytest.mark.parametrize("name", ht.errors.__all__)
def test_every_error_class_is_documented(name):
    assert inspect.isclass(getattr(ht.errors, name))
    assert name in _headings(), f"docs/errors.md has no '### {name}' section"


def test_public_warnings_elsewhere_are_documented():
    from hetensor.linear_model import ScaleWarning

    assert ScaleWarning.__name__ in _headings()


def test_catalogue_lists_nothing_that_does_not_exist():
    from hetensor import linear_model

    known = set(ht.errors.__all__) | {"ScaleWarning"}
    assert _headings() <= known, _headings() - known
    assert hasattr(linear_model, "ScaleWarning")


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_relative_links_stay_in_the_repository(page):
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+://", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), f"{page.name} links outside the repository: {target}"
        if page.name == "README.md" or not target.startswith("../"):
            assert path.exists(), f"{page.name}: broken link {target}"


def test_readme_is_a_guide():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 260, f"README.md has {len(lines)} lines; move reference detail to docs/"
