"""The weekly link check (`isldl_book.links`), against a local web server that stands for the data
sets' hosts: a file with its checksum, one whose content changed, one gone, a page."""

import hashlib
import http.server
import json
import threading
from functools import partial

import pytest

from isldl.data.files import REGISTRY
from isldl_book import links


@pytest.fixture
def server(tmp_path):
    (tmp_path / "data.bin").write_bytes(b"the data set")
    (tmp_path / "page.html").write_text("<p>a page</p>")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_each_kind_of_address_is_checked_as_it_should_be(server):
    good = hashlib.md5(b"the data set").hexdigest()
    sha = hashlib.sha256(b"the data set").hexdigest()
    cases = {
        links.Address(f"{server}/data.bin", "data", checksum=f"md5:{good}"): None,
        links.Address(f"{server}/data.bin", "weights", sha256_prefix=sha[:8]): None,
        links.Address(f"{server}/page.html", "a link"): None,
        links.Address(f"{server}/data.bin", "changed", checksum="md5:" + "0" * 32):
            f"its md5 is {good}, expected {'0' * 32}",
        links.Address(f"{server}/gone.bin", "gone", checksum=f"md5:{good}"):
            "HTTP 404 File not found",
        links.Address(f"{server}/gone.html", "dead link"): "HTTP 404 File not found",
        links.Address("http://127.0.0.1:9/", "no server"): "no answer",
    }
    results = {address: links.check(address, timeout=5) for address in cases}
    for address, expected in cases.items():
        if expected is None:
            assert results[address] is None, address
        else:
            assert results[address].startswith(expected), (address, results[address])
    text = links.report(results)
    assert text.startswith("# Link check: 4 of 7 addresses failed")
    assert f"| <{server}/gone.bin> | gone | HTTP 404" in text
    assert "3 addresses answered as they should." in text


def test_every_address_of_the_book_is_listed(root):
    found = links.addresses(root)
    urls = [a.url for a in found]
    assert len(urls) == len(set(urls))
    # every registry file that has an address, with its checksum
    assert {(a.url, a.checksum) for a in found if a.checksum} == {
        (f.url, f.hash) for f in REGISTRY.values() if f.url}
    weights = [a for a in found if a.what.startswith("pretrained weights")]
    # ResNet-50's file is named <stem>-<first hex digits of its SHA-256>.pth
    assert len(weights) == 2 and weights[0].url.endswith(f"-{weights[0].sha256_prefix}.pth")
    assert "https://www.statlearning.com" in urls  # the bibliography's
    colab = [a.url for a in found if "Colab link" in a.what]
    chapters = json.loads((root / "notebooks" / "links.json").read_text())["chapters"]
    assert len(colab) == len(chapters) and all(url.startswith("https://github.com/isldl/isldl/blob/v")
                                   for url in colab)
    assert not any(url.endswith((".", ",", ")")) for url in urls)
