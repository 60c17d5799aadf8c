"""The data layer, on the genuine copies under ISLDL_DATA (../shared/data in CI)."""

import gzip
import hashlib
import pickle
import shutil

import numpy as np
import pytest
import statsmodels.formula.api as smf

from isldl import data
from isldl.data import files, imdb
from isldl.data.cifar import read_cifar100

# ---------------------------------------------------------------- the small shipped tables


def test_hitters_has_the_263_players_with_a_salary():
    assert len(data.load_hitters(dropna=False)) == 322
    hitters = data.load_hitters()
    assert hitters.shape == (263, 20) and hitters["Salary"].notna().all()
    assert list(hitters["League"].cat.categories) == ["A", "N"]


def test_hitters_source_split_gives_the_source_lm_error():
    hitters, test = data.load_hitters(), data.hitters_test_positions()
    assert len(test) == 87 and test.min() >= 0 and test.max() < 263
    train = np.setdiff1d(np.arange(263), test)
    lm = smf.ols("Salary ~ " + " + ".join(hitters.columns.drop("Salary")),
                 data=hitters.iloc[train]).fit()
    mae = np.abs(hitters["Salary"].iloc[test] - lm.predict(hitters.iloc[test])).mean()
    assert round(mae, 4) == 254.6687


def test_hitters_model_matrix_is_rs():
    matrix = data.hitters_model_matrix(data.load_hitters())
    assert matrix.shape == (263, 20)
    assert {"LeagueA", "LeagueN", "DivisionW", "NewLeagueN"} <= set(matrix.columns)
    scaled = data.r_scale(matrix)
    np.testing.assert_allclose(scaled.std(ddof=1), 1.0)
    np.testing.assert_allclose(scaled.mean(), 0.0, atol=1e-12)


def test_source_folds_and_imdb_validation_rows():
    folds = data.hitters_cv_folds()
    assert len(folds) == 176 and sorted(np.unique(folds)) == list(range(1, 11))
    ival = data.imdb_validation_positions()
    assert len(ival) == 2000 == len(np.unique(ival)) and ival.min() >= 0 and ival.max() < 25000


def test_nyse():
    nyse = data.load_nyse()
    assert len(nyse) == 6051
    assert nyse["train"].sum() == 4281  # the trading days before 1980
    assert nyse.loc[nyse["train"], "date"].max() < nyse.loc[~nyse["train"], "date"].min()
    assert nyse["date"].is_monotonic_increasing


# --------------------------------------------------------------------------------- MNIST


def test_mnist_shapes_and_digit_counts():
    mnist = data.load_mnist()
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_test.shape == (10000, 28, 28)
    assert mnist.x_train.dtype == np.uint8 and mnist.y_train.dtype == np.int64
    assert np.bincount(mnist.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918,
                                                    6265, 5851, 5949]
    assert np.bincount(mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958,
                                                   1028, 974, 1009]


@pytest.fixture
def private_root(tmp_path, monkeypatch):
    """An empty, writable data root that the loaders use instead of the real one."""
    monkeypatch.setenv("ISLDL_DATA", str(tmp_path))
    return tmp_path


REAL_ROOT = files.data_root()  # the real copies, before a test points ISLDL_DATA elsewhere


def copy_real(name, root):
    """Copy one real data file into a private data root; return the copy's path."""
    relative = files.REGISTRY[name].path
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(REAL_ROOT / relative, target)
    return target


def test_truncated_mnist_file_is_named(private_root):
    for stem in ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1"):
        copy_real(f"MNIST/raw/{stem}-ubyte.gz", private_root)
    bad = private_root / "MNIST/raw/t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:1000])
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte.gz is corrupt or incomplete"):
        data.load_mnist()


def test_missing_data_offline_names_file_and_place(private_root, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr("pooch.retrieve", no_network)
    with pytest.raises(data.DataError) as err:
        data.load_mnist()
    message = str(err.value)
    assert "train-images-idx3-ubyte.gz is missing" in message
    assert str(private_root / "MNIST" / "raw") in message and "https://" in message


def test_idx_reader_rejects_a_non_idx_file(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"\0\0\x08\x01\0\0\0\x05abc"))  # says 5 bytes, has 3
    with pytest.raises(data.DataError, match="not an IDX file"):
        data.mnist.read_idx(path)


def test_download_is_checked_and_atomic(private_root, monkeypatch):
    """A fake download (no network): pooch's hash check refuses a wrong file, leaves nothing."""
    payload = b"the real bytes"
    entry = files.RemoteFile("demo/file.bin", "md5:" + hashlib.md5(payload).hexdigest(),
                             "https://example.org/file.bin", "a test")
    monkeypatch.setitem(files.REGISTRY, entry.path, entry)

    def fake_downloader(content):
        def download(url, output_file, pooch_obj, check_only=False):
            with open(output_file, "wb") as f:
                f.write(content)
        return download

    import pooch
    real_retrieve = pooch.retrieve
    monkeypatch.setattr(pooch, "retrieve", lambda url, **kw: real_retrieve(
        url, downloader=fake_downloader(corrupt[0]), **kw))
    corrupt = [b"not the real bytes"]
    with pytest.raises(data.DataError, match="the download failed"):
        files.fetch(entry.path)
    assert not any((private_root / "demo").glob("*"))  # nothing that looks valid is left
    corrupt[0] = payload
    assert files.fetch(entry.path).read_bytes() == payload


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"

    def fail(tmp):
        tmp.write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        files.atomic_write(target, fail)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- CIFAR-100


def write_cifar_fixture(folder, n_train=6, n_test=4):
    """A tiny CIFAR-100 in the official pickle layout (rows of 3,072 bytes, R then G then B)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for part, n in (("train", n_train), ("test", n_test)):
        batch = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 "fine_labels": [3 * i + 1 for i in range(n)],
                 "coarse_labels": [(7 * i + 5) % 20 for i in range(n)]}
        with open(folder / part, "wb") as f:
            pickle.dump(batch, f)
    with open(folder / "meta", "wb") as f:
        pickle.dump({"fine_label_names": [f"fine{i}" for i in range(100)],
                     "coarse_label_names": [f"coarse{i}" for i in range(20)]}, f)
    return folder


def test_cifar_reader_on_a_fixture(tmp_path):
    folder = write_cifar_fixture(tmp_path / "cifar-100-python")
    cifar = read_cifar100(folder)
    assert cifar.x_train.shape == (6, 32, 32, 3) and cifar.x_train.dtype == np.uint8
    with open(folder / "train", "rb") as f:
        raw = pickle.load(f)["data"]
    assert cifar.x_train[1, 0, 0].tolist() == [raw[1, 0], raw[1, 1024], raw[1, 2048]]
    assert cifar.y_test.tolist() == [1, 4, 7, 10] and len(cifar.fine_names) == 100
    assert cifar.coarse_test.tolist() == [5, 12, 19, 6] and len(cifar.coarse_names) == 20
    assert cifar.y_train.tolist() == [1, 4, 7, 10, 13, 16]


def test_cifar_missing_and_corrupt(private_root, monkeypatch):
    monkeypatch.setattr("pooch.retrieve", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(data.DataError, match="cifar-100-python.tar.gz is missing.*cs.toronto.edu"):
        data.load_cifar100()
    write_cifar_fixture(private_root / "cifar-100-python")
    with pytest.raises(data.DataError, match="train is corrupt or incomplete"):
        data.load_cifar100()  # the fixture is not the official file


def test_truncated_cifar_pickle_is_named(tmp_path):
    folder = write_cifar_fixture(tmp_path / "cifar-100-python")
    (folder / "test").write_bytes((folder / "test").read_bytes()[:100])
    with pytest.raises(data.DataError, match="test is not a readable CIFAR-100 pickle"):
        read_cifar100(folder)


# ---------------------------------------------------------------------------------- IMDb


@pytest.fixture(scope="module")
def imdb10k():
    return data.load_imdb(num_words=10_000)


def test_imdb_counts_and_labels(imdb10k):
    assert len(imdb10k.x_train) == len(imdb10k.x_test) == 25_000
    assert np.bincount(imdb10k.y_train).tolist() == [12_500, 12_500]
    assert np.bincount(imdb10k.y_test).tolist() == [12_500, 12_500]
    assert max(s.max() for s in imdb10k.x_train) == 9_999
    assert all(s[0] == 1 for s in imdb10k.x_test[:100])


def test_imdb_word_index():
    index = data.load_word_index()
    assert len(index) == 88_584 and index["the"] == 1


def test_imdb_matches_the_source_exactly(imdb10k):
    third = imdb10k.x_train[2][:12]
    assert third.tolist() == [1, 14, 47, 8, 30, 31, 7, 4, 249, 108, 7, 4]
    assert data.decode_review(third, data.load_word_index()) == (
        "<START> this has to be one of the worst films of the")
    lengths = np.array([len(s) for s in imdb10k.x_train])
    assert np.median(lengths) == 178
    assert np.mean(lengths <= 500) == 0.91568
    x = data.one_hot(imdb10k.x_train, 10_000)
    assert x.shape == (25_000, 10_000)
    assert round(x.nnz / (25_000 * 10_000), 8) == 0.01316987
    padded = data.pad_sequences(imdb10k.x_train, maxlen=500)
    assert padded.shape == (25_000, 500)
    assert padded[0, -11:].tolist() == [16, 4472, 113, 103, 32, 15, 16, 5345, 19, 178, 32]


def test_imdb_is_cached(imdb10k, monkeypatch):
    """The second load comes from the cache: it reads no review."""
    def no_reading(source):
        raise AssertionError(f"{source} was read again")

    monkeypatch.setattr(imdb, "_read_reviews", no_reading)
    again = data.load_imdb(num_words=10_000)
    assert all(np.array_equal(a, b) for a, b in zip(again.x_train[:50], imdb10k.x_train[:50]))
    assert list(data.cache_root().glob("imdb-*.npz"))


def test_pad_sequences_pads_and_truncates_at_the_front():
    padded = data.pad_sequences([np.array([1, 2, 3]), np.array([1, 2, 3, 4, 5, 6])], maxlen=4)
    assert padded.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6]]


def test_keras_tokeniser():
    assert imdb.text_to_word_sequence("It's GREAT!<br />Really... 10/10") == [
        "it's", "great", "br", "really", "10", "10"]


def test_imdb_missing_reviews_are_named(private_root, monkeypatch):
    monkeypatch.setattr("pooch.retrieve", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(data.DataError, match="aclImdb_v1.tar.gz is missing"):
        data.load_imdb()


def test_truncated_imdb_tarball_is_named(private_root):
    target = copy_real("imdb/aclImdb_labelled.tar.xz", private_root)
    target.write_bytes(target.read_bytes()[:200_000])
    with pytest.raises(data.DataError, match="aclImdb_labelled.tar.xz is corrupt"):
        data.load_imdb()


# ---------------------------------------------------------------------- pretrained models


def test_quantized_mobilenet_classifies_the_book_images():
    from isldl.paths import book_images

    mobilenet = data.load_quantized_mobilenet()
    assert len(mobilenet.categories) == 1000
    names = ["flamingo.jpg", "hawk.jpg", "hawk_cropped.jpeg"]
    top = data.top_classes(mobilenet, [book_images() / name for name in names], k=3)
    first = top[top["rank"] == 1].set_index("image")["class"]
    assert first.to_dict() == {"flamingo.jpg": "flamingo", "hawk.jpg": "kite",
                               "hawk_cropped.jpeg": "kite"}
    # the top three, in order, and each probability a share of the whole softmax
    assert top.groupby("image")["rank"].apply(lambda r: list(r) == [1, 2, 3]).all()
    assert (top.groupby("image")["prob"].apply(lambda p: (np.diff(p) <= 0).all())).all()
    assert ((top["prob"] > 0) & (top["prob"] < 1)).all()


def test_missing_weight_file_is_named(private_root, monkeypatch):
    import torchvision.models.quantization as quantization

    def offline(*args, **kwargs):
        raise OSError("offline")

    monkeypatch.setattr(quantization, "mobilenet_v2", offline)
    with pytest.raises(data.DataError, match="mobilenet_v2_quantized_qnnpack.pt is missing"):
        data.load_quantized_mobilenet()


# ------------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize("content, message", [
    (None, "Hitters.csv is missing: it ships with the isldl package"),
    (b"\xff\xfe\x00bad", "Hitters.csv could not be read as CSV"),
])
def test_a_missing_or_unreadable_table_is_named(tmp_path, monkeypatch, content, message):
    from isldl.data import tables

    if content is not None:
        (tmp_path / "Hitters.csv").write_bytes(content)
    monkeypatch.setattr(tables, "TABLES", tmp_path)
    with pytest.raises(data.DataError, match=message):
        data.load_hitters()


def test_an_empty_mnist_file_is_named(tmp_path):
    import gzip

    from isldl.data.mnist import read_idx

    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(path, "wb"):
        pass
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte.gz is empty or cut short"):
        read_idx(path)


def test_an_extracted_cifar_without_a_part_or_with_wrong_keys_is_named(tmp_path):
    folder = write_cifar_fixture(tmp_path / "cifar-100-python")
    (folder / "meta").unlink()
    with pytest.raises(data.DataError, match="meta is missing"):
        read_cifar100(folder)
    folder = write_cifar_fixture(tmp_path / "other" / "cifar-100-python")
    with open(folder / "train", "wb") as f:
        pickle.dump({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]}, f)
    with pytest.raises(data.DataError, match="not CIFAR-100's python version.*fine_labels"):
        read_cifar100(folder)
    with open(folder / "train", "wb") as f:
        pickle.dump({"data": np.zeros((2, 100), np.uint8), "fine_labels": [0, 1],
                     "coarse_labels": [0, 1]}, f)
    with pytest.raises(data.DataError, match="rows of 3,072 bytes"):
        read_cifar100(folder)


def test_imdb_reviews_from_a_folder_must_be_complete(tmp_path):
    from isldl.data.imdb import _read_reviews

    folder = tmp_path / "aclImdb"
    for split in ("train", "test"):
        for label in ("pos", "neg"):
            (folder / split / label).mkdir(parents=True)
            (folder / split / label / "0_7.txt").write_text("A review.")
    with pytest.raises(data.DataError, match="should hold 12,500 reviews per split and label"):
        _read_reviews(folder)


def test_a_corrupt_word_index_is_named(private_root, monkeypatch):
    from isldl.data import imdb

    bad = private_root / "imdb_word_index.json"
    bad.write_text('{"the": 1, "and": ')
    monkeypatch.setattr(imdb, "fetch", lambda name: bad)
    with pytest.raises(data.DataError, match="imdb_word_index.json is not Keras' word index"):
        imdb.load_word_index()


@pytest.mark.slow  # tokenises the 50,000 reviews
def test_a_corrupt_derived_cache_is_rebuilt(imdb10k, monkeypatch):
    from isldl.data import imdb

    cache = imdb._cache_path(imdb._review_source())
    cache.write_bytes(b"PK\x03\x04 not a zip archive")
    again = data.load_imdb(num_words=10_000)
    assert [len(s) for s in again.x_train[:50]] == [len(s) for s in imdb10k.x_train[:50]]
    np.load(cache).close()  # rewritten whole


def test_a_failed_resnet_download_is_named(monkeypatch):
    from torchvision import models as tv_models

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(tv_models, "resnet50", offline)
    with pytest.raises(data.DataError, match="ResNet-50's weights could not be had.*no network"):
        data.load_resnet50()


def test_a_corrupt_torchscript_copy_is_named(private_root):
    path = private_root / "torch" / "mobilenet_v2_quantized_qnnpack.pt"
    path.parent.mkdir()
    path.write_bytes(b"not a model")
    with pytest.raises(data.DataError, match="mobilenet_v2_quantized_qnnpack.pt is corrupt"):
        data.load_quantized_mobilenet()


def test_record_takes_numpy_values(tmp_path, monkeypatch):
    import json

    from isldl import state

    state.begin(None, "fast")
    state.write_record(tmp_path / "m.json", a=np.float64(1.5), b=np.arange(3), c=np.int64(2))
    assert json.loads((tmp_path / "m.json").read_text()) == {
        "mode": "fast", "not_the_books_results": ["fast mode"], "a": 1.5, "b": [0, 1, 2],
        "c": 2}


# ---------------------------------------------------------------------------- the data folder


def test_the_data_folder_is_the_checkouts_in_a_checkout_and_the_cache_outside(
        root, monkeypatch, tmp_path):
    monkeypatch.delenv("ISLDL_DATA", raising=False)
    # this package is installed from the checkout (make's editable install)
    assert files.data_root() == root / "data"
    # a package installed from a wheel (pip, Colab): the user's cache
    monkeypatch.setattr(files, "installed_checkout", lambda: None)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert files.data_root() == tmp_path / ".cache" / "isldl"
    monkeypatch.setenv("ISLDL_DATA", str(tmp_path / "mine"))
    assert files.data_root() == tmp_path / "mine"


def test_the_data_folders_readme_lists_every_file_and_git_ignores_the_rest(root):
    import subprocess

    readme = (root / "data" / "README.md").read_text()
    for path, entry in files.REGISTRY.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{path}` |"))
        assert entry.hash.split(":")[1] in row, path
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/MNIST/raw/x.gz"], cwd=root)
    kept = subprocess.run(["git", "check-ignore", "-q", "data/README.md"], cwd=root)
    assert (ignored.returncode, kept.returncode) == (0, 1)
