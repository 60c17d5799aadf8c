"""Every address the book downloads from or links to, checked: does it still answer, and does
each data file still have its checksum?

    python -m isldl_book.links [--report links.md]

- The data registry's files (`isldl.data.files.REGISTRY`) are downloaded whole and checked
  against their checksums; the pretrained weights against the SHA-256 prefix in their names
  (torchvision's own check).
- The links in the book's pages (chapters, preface, appendices, errata, bibliography) and
  the notebook that each chapter's "Open in Colab" link opens (on GitHub, at the release's
  tag) must answer with a status below 400.

The weekly workflow `.github/workflows/links.yml` runs it and opens an issue with the report
when an address fails. The exit status is 1 when one did.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from isldl.data.files import REGISTRY

from . import BOOK_ROOT

PAGES = ("chapters/*.qmd", "index.qmd", "appendices/*.qmd", "errata.qmd", "errata.yml",
         "references.bib")
_URL = re.compile(r"https?://[^\s<>()\[\]{}\"'`|\\]+")
_HEADERS = {"User-Agent": "isldl-link-check (+https://github.com/isldl/isldl)"}
TIMEOUT = 60


@dataclass(frozen=True)
class Address:
    """One address and what must hold of it: a checksum ("md5:…", "sha256:…"), a prefix of
    the SHA-256 (`sha256_prefix`), or only an answer."""

    url: str
    what: str
    checksum: str | None = None
    sha256_prefix: str | None = None


def pretrained_weights() -> list[Address]:
    """The pretrained weights that chapter 4 downloads through torchvision."""
    from torchvision import models

    weights = [models.ResNet50_Weights.IMAGENET1K_V1,
               models.quantization.MobileNet_V2_QuantizedWeights.IMAGENET1K_QNNPACK_V1]
    found = []
    for w in weights:
        # torch.hub's check: a name <stem>-<first hex digits of the SHA-256>.pth
        prefix = re.search(r"-([0-9a-f]+)\.", Path(w.url).name)
        found.append(Address(w.url, f"pretrained weights {w}",
                             sha256_prefix=prefix[1] if prefix else None))
    return found


def page_links(root: Path = BOOK_ROOT) -> list[Address]:
    """The links written in the book's pages, once each."""
    seen: dict[str, str] = {}
    for pattern in PAGES:
        for page in sorted(root.glob(pattern)):
            for url in _URL.findall(page.read_text(encoding="utf-8")):
                seen.setdefault(url.rstrip(".,;:"), str(page.relative_to(root)))
    return [Address(url, f"link in {page}") for url, page in seen.items()]


COLAB = "https://colab.research.google.com/github/"


def colab_links(root: Path = BOOK_ROOT) -> list[Address]:
    """The notebook behind each chapter's "Open in Colab" link (`notebooks/links.json`), on
    GitHub at the release's tag: Colab itself answers any such address with a page."""
    chapters = json.loads((root / "notebooks" / "links.json").read_text())["chapters"]
    return [Address(links["colab"].replace(COLAB, "https://github.com/"),
                    f"notebook of {name}'s Colab link") for name, links in chapters.items()]


def addresses(root: Path = BOOK_ROOT) -> list[Address]:
    """Every address to check: the data files, the pretrained weights, the pages' links."""
    data = [Address(f.url, f"data file {f.path}", checksum=f.hash)
            for f in REGISTRY.values() if f.url]
    return data + pretrained_weights() + page_links(root) + colab_links(root)


def check(address: Address, timeout: float = TIMEOUT) -> str | None:
    """What is wrong with the address, or None if it answers as it should."""
    whole = address.checksum or address.sha256_prefix
    request = urllib.request.Request(address.url, headers=_HEADERS,
                                     method="GET" if whole else "HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if not whole:
                return None
            algorithm, want = (address.checksum.split(":") if address.checksum
                               else ("sha256", address.sha256_prefix))
            digest = hashlib.new(algorithm)
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
    except urllib.error.HTTPError as err:
        if err.code in (403, 405) and not whole:  # some servers refuse HEAD: ask for a byte
            return _get_first_byte(address, timeout)
        return f"HTTP {err.code} {err.reason}"
    except (urllib.error.URLError, OSError) as err:
        return f"no answer ({getattr(err, 'reason', err)})"
    if not digest.hexdigest().startswith(want):
        return f"its {algorithm} is {digest.hexdigest()}, expected {want}"
    return None


def _get_first_byte(address: Address, timeout: float) -> str | None:
    request = urllib.request.Request(address.url, headers={**_HEADERS, "Range": "bytes=0-0"})
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError as err:
        return f"HTTP {err.code} {err.reason}"
    except (urllib.error.URLError, OSError) as err:
        return f"no answer ({getattr(err, 'reason', err)})"


def report(results: dict[Address, str | None]) -> str:
    """The check's results as Markdown: the failures first, then a count of the others."""
    failed = {a: why for a, why in results.items() if why}
    lines = [f"# Link check: {len(failed)} of {len(results)} addresses failed", ""]
    if failed:
        lines += ["| address | what | problem |", "|:--|:--|:--|"]
        lines += [f"| <{a.url}> | {a.what} | {why} |" for a, why in failed.items()]
        lines.append("")
    lines.append(f"{len(results) - len(failed)} addresses answered as they should.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl_book.links",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--report", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    results = {}
    for address in addresses():
        results[address] = check(address)
        print(f"{'FAIL' if results[address] else 'ok  '} {address.url}"
              + (f": {results[address]}" if results[address] else ""), flush=True)
    text = report(results)
    print(text)
    if args.report:
        args.report.write_text(text)
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
