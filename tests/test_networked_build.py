"""The book as a reader with a network builds it, simulated here where nothing downloads.

Where the pins were made, CIFAR-100 could not be had, so chapter 3's fit has no pin, only a
`missing.json`. On a reader's machine the archive downloads; here a synthetic archive in
CIFAR-100's exact format (a few hundred random images) stands for it, accepted through the one
test-only setting `ISLDL_TEST_CHECKSUMS`, and the pins go to a temporary `ISLDL_RESULTS`.
"""

import hashlib
import io
import json
import pickle
import tarfile

import nbformat
import numpy as np
import pytest

from chapter_values import run_for_tests
from isldl.data import load_cifar100
from isldl_book.run import ChapterError
from isldl_book.train_missing import train_missing

pytestmark = pytest.mark.slow  # see conftest.py


def md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()


def synthetic_cifar100(folder, n_train=400, n_test=100, seed=0):
    """Write `cifar-100-python.tar.gz` as the official archive lays it out (a folder
    `cifar-100-python/` with the pickles `train`, `test` and `meta`) with random images, and
    a checksums file for `ISLDL_TEST_CHECKSUMS`; return the checksums file."""
    rng = np.random.default_rng(seed)

    def batch(n, label):
        return {"filenames": [f"image_{i}.png" for i in range(n)], "batch_label": label,
                "fine_labels": rng.integers(0, 100, n).tolist(),
                "coarse_labels": rng.integers(0, 20, n).tolist(),
                "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}

    parts = {"train": batch(n_train, "training batch 1 of 1"),
             "test": batch(n_test, "testing batch 1 of 1"),
             "meta": {"fine_label_names": [f"fine_{i}" for i in range(100)],
                      "coarse_label_names": [f"coarse_{i}" for i in range(20)]}}
    pickles = {name: pickle.dumps(value, protocol=2) for name, value in parts.items()}
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, data in pickles.items():
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    folder.mkdir(parents=True)
    (folder / "cifar-100-python.tar.gz").write_bytes(archive.getvalue())
    checksums = {"cifar-100-python.tar.gz": md5(archive.getvalue()),
                 **{f"cifar-100-python/{name}": md5(data) for name, data in pickles.items()}}
    path = folder.parent / "test-checksums.json"
    path.write_text(json.dumps(checksums))
    return path


def markdown_outputs(executed) -> list[str]:
    notebook = nbformat.read(executed, as_version=4)
    return [o["data"]["text/markdown"] for cell in notebook.cells if cell.cell_type == "code"
            for o in cell.get("outputs", []) if "text/markdown" in o.get("data", {})]


def test_the_loaders_accept_a_synthetic_archive_only_with_its_test_checksums(tmp_path,
                                                                             monkeypatch):
    checksums = synthetic_cifar100(tmp_path / "data")
    monkeypatch.setenv("ISLDL_DATA", str(tmp_path / "data"))
    with pytest.raises(Exception, match="cifar-100-python.tar.gz is corrupt"):
        load_cifar100()  # the registry's checksum: not CIFAR-100
    monkeypatch.setenv("ISLDL_TEST_CHECKSUMS", str(checksums))
    cifar = load_cifar100()
    assert cifar.x_train.shape == (400, 32, 32, 3) and cifar.x_test.shape == (100, 32, 32, 3)
    assert cifar.fine_names[7] == "fine_7" and cifar.y_train.max() < 100


def test_a_networked_build_trains_the_missing_pin_once_and_refuses_a_stale_one(
        root, tmp_path, monkeypatch, capsys):
    chapter, results = root / "chapters" / "03-cifar-cnn.qmd", tmp_path / "results"
    folder = results / "03-cifar-cnn"
    monkeypatch.setenv("ISLDL_RESULTS", str(results))

    # Where the pins are made CIFAR-100 cannot be had: retraining leaves missing.json.
    monkeypatch.setenv("ISLDL_DATA", str(tmp_path / "no-data"))
    monkeypatch.setenv("ISLDL_OFFLINE", "1")
    made = run_for_tests(chapter, {"mode": "retrain"}, tmp_path / "made")
    assert made["not_the_books_results"] == ["stand-in data"]
    missing = json.loads((folder / "missing.json").read_text())
    assert missing["data"] == ["cifar-100-python.tar.gz"] and missing["seconds_per_example"] > 0
    assert missing["why"] == "CIFAR-100 (Krizhevsky 2009) could not be had"
    assert not (folder / "pin.json").exists()

    # A reader's machine downloads it (here: the synthetic archive).
    monkeypatch.setenv("ISLDL_TEST_CHECKSUMS",
                       str(synthetic_cifar100(tmp_path / "data")))
    monkeypatch.setenv("ISLDL_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("ISLDL_OFFLINE")
    # A plain render (load mode) does not train: it stops and names the command to run.
    with pytest.raises(ChapterError, match=r"`make pins` \(in a notebook: set mode = "
                                           r"\"missing\" in the parameters cell\)"):
        run_for_tests(chapter, {}, tmp_path / "plain-render")

    capsys.readouterr()
    assert train_missing(root, out=tmp_path / "pins") == ["03-cifar-cnn"]
    shown = capsys.readouterr()
    assert "running chapters/03-cifar-cnn.qmd in missing mode" in shown.out
    assert "Training the fit '03-cifar-cnn' once, at its chapter's budget" in shown.out
    assert "CIFAR-100 (Krizhevsky 2009) could not be had where the pins were made" in shown.out
    assert "minutes at that machine's speed" in shown.out
    assert "epochs: 100%" in shown.err  # the progress bar
    assert (folder / "pin.json").exists() and not (folder / "missing.json").exists()
    assert train_missing(root, out=tmp_path / "pins") == []  # once only

    rendered = run_for_tests(chapter, {}, tmp_path / "render")
    pin = rendered["pin:03-cifar-cnn"]
    assert rendered["mode"] == "load" and rendered["not_the_books_results"] == []
    assert pin["loaded"] and pin["metrics"] == pin["recorded"]
    assert rendered["epochs"] == 10 and not rendered["stand_in"]
    markdown = markdown_outputs(tmp_path / "render" / "03-cifar-cnn.ipynb")
    assert not any("could not be had" in text or "not the book's results" in text
                   for text in markdown)

    # A stale pin is refused, by the render and by the mode that `make pins` runs alike,
    # never retrained.
    record = json.loads((folder / "pin.json").read_text())
    record["parts"]["code"] = "0" * 64
    (folder / "pin.json").write_text(json.dumps(record))
    assert train_missing(root, out=tmp_path / "pins") == []
    for mode in ("load", "missing"):
        with pytest.raises(ChapterError, match="stale: its code changed"):
            run_for_tests(chapter, {"mode": mode}, tmp_path / f"stale-{mode}")
    assert json.loads((folder / "pin.json").read_text())["parts"]["code"] == "0" * 64
