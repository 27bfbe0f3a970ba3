"""Finding, verifying and downloading the files of a data set.

Each file is looked for, in order, in the search folders (by default the system folders a
distribution package installs), then in the cache folder; if it is in neither it is
downloaded from the official URL into the cache.  Checksums are verified on every load.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

from tpnb.data.errors import ChecksumError, DataFileError

GZIP_MAGIC = b"\x1f\x8b"
DOWNLOAD_TIMEOUT_S = 60.0
DATA_DIR_ENV = "TPNB_DATA_DIR"


@dataclass(frozen=True)
class DataFile:
    """One file of a data set and the checksum its content must match.

    sha256_raw: SHA-256 of the decompressed content, so any gzip re-compression verifies.
    md5_stored: MD5 of the file exactly as stored; checked only where sha256_raw is None.
    """

    name: str
    sha256_raw: str | None = None
    md5_stored: str | None = None

    def __post_init__(self):
        if self.sha256_raw is None and self.md5_stored is None:
            raise ValueError(f"{self.name}: needs a sha256_raw or an md5_stored checksum")


@dataclass(frozen=True)
class DataSource:
    """A data set's files, the system folders holding them, the official URL, an install hint."""

    name: str
    files: tuple[DataFile, ...]
    base_url: str
    system_dirs: tuple[Path, ...] = ()
    install_hint: str = ""


@dataclass(frozen=True)
class FileContent:
    """A file's bytes as stored and its content (gunzipped if stored as gzip)."""

    stored: bytes
    content: bytes


def read_content(path: Path) -> FileContent:
    """Read path, gunzipping when it starts with the gzip magic; corrupt gzip -> DataFileError."""
    stored = path.read_bytes()
    if not stored.startswith(GZIP_MAGIC):
        return FileContent(stored, stored)
    try:
        return FileContent(stored, gzip.decompress(stored))
    except (OSError, EOFError, zlib.error) as err:
        raise DataFileError(f"{path}: corrupt gzip data ({err})") from err


def verify_checksum(data_file: DataFile, file: FileContent, where: str) -> None:
    """Raise ChecksumError naming where, the expected and the actual digest on mismatch."""
    if data_file.sha256_raw is not None:
        kind, expected = "sha256 of the decompressed content", data_file.sha256_raw
        actual = hashlib.sha256(file.content).hexdigest()
    else:
        kind, expected = "md5 of the stored file", data_file.md5_stored
        actual = hashlib.md5(file.stored, usedforsecurity=False).hexdigest()
    if actual != expected:
        raise ChecksumError(
            f"{where}: {kind} is {actual}, expected {expected}; it is corrupt or not the "
            f"official {data_file.name} (delete it to fetch it again, or pass verify=False)")


def cache_dir_for(name: str, cache_dir: str | Path | None = None) -> Path:
    """cache_dir if given, else $TPNB_DATA_DIR/<name>, else ~/.cache/tpnb/<name>."""
    if cache_dir is not None:
        return Path(cache_dir)
    root = os.environ.get(DATA_DIR_ENV)
    return Path(root) / name if root else Path.home() / ".cache" / "tpnb" / name


def fetch_url(url: str, destination: Path, timeout: float) -> None:
    """Write the body of url to destination; network errors propagate."""
    with urllib.request.urlopen(url, timeout=timeout) as response, destination.open("wb") as out:
        shutil.copyfileobj(response, out)


def download_file(url: str, destination: Path, data_file: DataFile, verify: bool,
                  timeout: float) -> None:
    """Fetch url into a temporary file beside destination, verify it, then move it into place.

    The move is an os.replace, so destination is either absent or complete; on any failure
    the temporary file is removed.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.",
                                    suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        fetch_url(url, tmp, timeout)
        if verify:
            verify_checksum(data_file, read_content(tmp), f"{url} (downloaded)")
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)


def load_contents(source: DataSource, *, search_dirs=None, cache_dir=None, download: bool = True,
                  verify: bool = True, timeout: float = DOWNLOAD_TIMEOUT_S) -> dict[str, bytes]:
    """The decompressed content of every file of source, keyed by file name.

    search_dirs replaces source.system_dirs; cache_dir replaces the default cache folder
    (see cache_dir_for).  download=False never touches the network.  verify=False skips
    the checksums.  A file found nowhere raises FileNotFoundError listing every place tried.
    """
    folders = [Path(d) for d in (source.system_dirs if search_dirs is None else search_dirs)]
    cache = cache_dir_for(source.name, cache_dir)
    contents = {}
    for data_file in source.files:
        path = next((d / data_file.name for d in [*folders, cache]
                     if (d / data_file.name).is_file()), None)
        if path is None:
            path = cache / data_file.name
            url = source.base_url + data_file.name
            if not download:
                raise _not_found(source, data_file, folders, cache,
                                 f"{url}: not tried (download=False)")
            try:
                download_file(url, path, data_file, verify, timeout)
            except (OSError, http.client.HTTPException) as err:
                raise _not_found(source, data_file, folders, cache,
                                 f"{url}: failed ({err})") from err
        file = read_content(path)
        if verify:
            verify_checksum(data_file, file, str(path))
        contents[data_file.name] = file.content
    return contents


def _not_found(source: DataSource, data_file: DataFile, folders: list[Path], cache: Path,
               download_outcome: str) -> FileNotFoundError:
    places = [f"  {d / data_file.name} (search folder)" for d in folders]
    places.append(f"  {cache / data_file.name} (cache folder; move it with cache_dir= or "
                  f"${DATA_DIR_ENV})")
    places.append(f"  {download_outcome}")
    how = f"{source.install_hint}, or " if source.install_hint else ""
    return FileNotFoundError(
        f"{source.name}: {data_file.name} not found. Tried:\n" + "\n".join(places) +
        f"\nTo get it: {how}download {source.base_url}{data_file.name} into {cache}/")
