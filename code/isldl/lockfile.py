"""The lock file: the exact versions of everything `make test` and `make book` install.

    python -m isldl.lockfile > requirements-lock.txt   # from the current virtual environment

The list is the closure of isldl's requirements (its dependencies and the `test` and `book`
extras, as pyproject.toml declares them) over the distributions installed in the running
environment, each pinned to its installed version. Anything else installed there (a linter,
a benchmark's extra library) is left out, so the lock is what CI installs, not what one
machine happens to hold.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .paths import BOOK_ROOT

EXTRAS = ("test", "book")
"""The extras that `make test` and `make book` install into the one .venv."""


_PLATFORM = re.compile(r"\b(?:platform_system|sys_platform|os_name|platform_machine)\b")


def _applies(requirement: Requirement, extras: tuple[str, ...]) -> bool:
    marker: Marker | None = requirement.marker
    if marker is None:
        return True
    return any(marker.evaluate({"extra": extra}) for extra in ("", *extras))


def _walk(roots: list[str], platform_edges: bool) -> dict[str, tuple]:
    """{canonical name: (name, version, marker)} of the installed distributions that the
    requirement lines `roots` reach; an edge whose marker names the platform is followed only
    if `platform_edges`, and gives what it reaches that marker (torch's CUDA packages:
    `platform_system == "Linux"`)."""
    found: dict[str, tuple] = {}
    seen: set[tuple[str, tuple]] = set()
    todo = [(None, (), None)]
    while todo:
        name, wanted, inherited = todo.pop(0)
        if (name and canonicalize_name(name), wanted) in seen:
            continue
        seen.add((name and canonicalize_name(name), wanted))
        lines = roots if name is None else metadata.distribution(name).requires or []
        for line in lines:
            requirement = Requirement(line)
            if not _applies(requirement, wanted):
                continue
            marker = inherited
            if requirement.marker is not None and _PLATFORM.search(str(requirement.marker)):
                if not platform_edges:
                    continue
                marker = marker or str(requirement.marker)
            try:
                dependency = metadata.distribution(requirement.name)
            except metadata.PackageNotFoundError:
                raise SystemExit(f"{requirement.name} (required by {name or 'isldl'}) is not "
                                 "installed: "
                                 "install the book first (make test)") from None
            key = canonicalize_name(requirement.name)
            found.setdefault(key, (dependency.metadata["Name"], dependency.version, marker))
            todo.append((requirement.name, tuple(sorted(requirement.extras)), marker))
    return found


def declared(pyproject: Path = BOOK_ROOT / "pyproject.toml",
             extras: tuple[str, ...] = EXTRAS) -> list[Requirement]:
    """The requirements pyproject.toml declares: the dependencies and the given extras (read
    from the file, not from the installed metadata, which may predate an edit)."""
    import tomllib  # Python 3.11+

    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    lines = project["dependencies"] + [
        line for extra in extras for line in project["optional-dependencies"][extra]]
    return [Requirement(line) for line in lines]


def closure(extras: tuple[str, ...] = EXTRAS) -> dict[str, tuple]:
    """{canonical name: (name as installed, version, marker or None)} for isldl's declared
    requirements and all they require here. A package that only a platform-specific
    requirement brings in keeps that requirement's marker, so the lock installs elsewhere too
    (without torch's CUDA packages on macOS, say)."""
    roots = [str(r) for r in declared(extras=extras)]
    everywhere = _walk(roots, platform_edges=False)
    found = _walk(roots, platform_edges=True)
    return {key: (name, version, None if key in everywhere else marker)
            for key, (name, version, marker) in sorted(found.items())}


HEADER = """\
# The exact versions that CI installs (`make test`, `make book`): isldl's dependencies and its
# `test` and `book` extras, resolved on Linux x86-64 with Python 3.11. Regenerate with
#   .venv/bin/python -m isldl.lockfile > requirements-lock.txt
# torch's default Linux wheel on PyPI is its CUDA build, which requires the nvidia-*, cuda-*
# and triton packages below (several GB). A CPU-only machine can use the CPU build of the
# same torch instead: `make test CPU_TORCH=1` (see the README).
"""


def lock_text(extras: tuple[str, ...] = EXTRAS) -> str:
    lines = [f"{name}=={version}" + (f" ; {marker}" if marker else "")
             for name, version, marker in closure(extras).values()]
    return HEADER + "\n".join(lines) + "\n"


def main() -> int:
    sys.stdout.write(lock_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
