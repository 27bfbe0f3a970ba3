"""Finding data files: search order, checksums, atomic downloads, and the not-found message."""
import gzip
import hashlib

import pytest

from tpnb.data import ChecksumError, DataFileError
from tpnb.data import sources
from tpnb.data.sources import DataFile, DataSource, cache_dir_for, load_contents

CONTENT = b"the decompressed content"
SHA256 = hashlib.sha256(CONTENT).hexdigest()


def make_source(**file_checksums):
    checksums = file_checksums or {"sha256_raw": SHA256}
    return DataSource(name="toy", files=(DataFile("toy.gz", **checksums),),
                      base_url="https://example.invalid/", install_hint="apt-get install toy-data")


def write(folder, data, name="toy.gz"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder




def test_finds_file_in_search_dir_and_returns_decompressed_content(tmp_path, no_network):
    folder = write(tmp_path / "system", gzip.compress(CONTENT))
    contents = load_contents(make_source(), search_dirs=[folder], cache_dir=tmp_path / "cache",
                             download=False)
    assert contents == {"toy.gz": CONTENT}


@pytest.mark.parametrize("stored", [gzip.compress(CONTENT, 1), gzip.compress(CONTENT, 9, mtime=7),
                                    CONTENT])
def test_sha256_of_content_verifies_any_compression(tmp_path, stored, no_network):
    folder = write(tmp_path / "d", stored)
    assert load_contents(make_source(), search_dirs=[folder], cache_dir=tmp_path / "c",
                         download=False)["toy.gz"] == CONTENT


def test_search_dirs_come_before_cache(tmp_path, no_network):
    first = write(tmp_path / "first", b"first")
    cache = write(tmp_path / "cache", b"cache")
    kwargs = dict(cache_dir=cache, download=False, verify=False)
    found = load_contents(make_source(), search_dirs=[tmp_path / "none", first], **kwargs)
    assert found["toy.gz"] == b"first"
    assert load_contents(make_source(), search_dirs=[], **kwargs)["toy.gz"] == b"cache"


def test_cache_dir_argument_then_env_var_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TPNB_DATA_DIR", str(tmp_path / "root"))
    assert cache_dir_for("toy", tmp_path / "explicit") == tmp_path / "explicit"
    assert cache_dir_for("toy") == tmp_path / "root" / "toy"
    monkeypatch.delenv("TPNB_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir_for("toy") == tmp_path / "home" / ".cache" / "tpnb" / "toy"


def test_env_var_cache_is_searched(tmp_path, monkeypatch, no_network):
    write(tmp_path / "root" / "toy", gzip.compress(CONTENT))
    monkeypatch.setenv("TPNB_DATA_DIR", str(tmp_path / "root"))
    assert load_contents(make_source(), search_dirs=[], download=False)["toy.gz"] == CONTENT


def test_checksum_mismatch_names_file_expected_and_actual(tmp_path, no_network):
    folder = write(tmp_path / "d", gzip.compress(b"something else"))
    actual = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(ChecksumError, match=f"toy.gz: sha256 .* is {actual}, expected {SHA256}"):
        load_contents(make_source(), search_dirs=[folder], cache_dir=tmp_path / "c", download=False)
    contents = load_contents(make_source(), search_dirs=[folder], cache_dir=tmp_path / "c",
                             download=False, verify=False)
    assert contents["toy.gz"] == b"something else"


def test_md5_checks_the_stored_bytes(tmp_path, no_network):
    stored = gzip.compress(CONTENT, mtime=0)
    source = make_source(md5_stored=hashlib.md5(stored).hexdigest())
    kwargs = dict(cache_dir=tmp_path / "c", download=False)
    original = write(tmp_path / "a", stored)
    assert load_contents(source, search_dirs=[original], **kwargs)["toy.gz"] == CONTENT
    recompressed = write(tmp_path / "b", gzip.compress(CONTENT, mtime=1))
    with pytest.raises(ChecksumError, match="md5 of the stored file"):
        load_contents(source, search_dirs=[recompressed], **kwargs)


def test_a_data_file_needs_a_checksum():
    with pytest.raises(ValueError, match="needs a sha256_raw or an md5_stored"):
        DataFile("x.gz")


def test_corrupt_gzip_raises_data_file_error(tmp_path, no_network):
    folder = write(tmp_path / "d", gzip.compress(CONTENT)[:-6])
    with pytest.raises(DataFileError, match="toy.gz: corrupt gzip"):
        load_contents(make_source(), search_dirs=[folder], cache_dir=tmp_path / "c", download=False)


def test_missing_everywhere_lists_every_place_and_the_remedy(tmp_path, no_network):
    with pytest.raises(FileNotFoundError) as raised:
        load_contents(make_source(), search_dirs=[tmp_path / "sys1", tmp_path / "sys2"],
                      cache_dir=tmp_path / "cache", download=False)
    message = str(raised.value)
    for place in ("sys1/toy.gz", "sys2/toy.gz", "cache/toy.gz", "https://example.invalid/toy.gz",
                  "download=False", "apt-get install toy-data"):
        assert place in message
    assert not (tmp_path / "cache").exists()


def test_download_goes_atomically_into_cache_and_is_reused(tmp_path, monkeypatch):
    urls = []

    def fake_fetch(url, destination, timeout):
        urls.append(url)
        destination.write_bytes(gzip.compress(CONTENT))
    monkeypatch.setattr(sources, "fetch_url", fake_fetch)
    cache = tmp_path / "cache"
    assert load_contents(make_source(), search_dirs=[], cache_dir=cache)["toy.gz"] == CONTENT
    assert urls == ["https://example.invalid/toy.gz"]
    assert sorted(p.name for p in cache.iterdir()) == ["toy.gz"]
    load_contents(make_source(), search_dirs=[], cache_dir=cache)
    assert len(urls) == 1


def test_failed_download_leaves_nothing_in_cache(tmp_path, monkeypatch):
    def failing_fetch(url, destination, timeout):
        destination.write_bytes(b"half a fi")
        raise TimeoutError("timed out")
    monkeypatch.setattr(sources, "fetch_url", failing_fetch)
    failed = r"https://example.invalid/toy.gz: failed \(timed out\)"
    with pytest.raises(FileNotFoundError, match=failed):
        load_contents(make_source(), search_dirs=[], cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_downloaded_file_with_wrong_checksum_is_not_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "fetch_url",
                        lambda url, destination, timeout: destination.write_bytes(b"junk"))
    with pytest.raises(ChecksumError, match="example.invalid/toy.gz \\(downloaded\\)"):
        load_contents(make_source(), search_dirs=[], cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_fetch_url_copies_the_body(tmp_path):
    origin = write(tmp_path / "origin", b"body bytes") / "toy.gz"
    sources.fetch_url(origin.as_uri(), tmp_path / "copy", timeout=5)
    assert (tmp_path / "copy").read_bytes() == b"body bytes"
