"""The IDX format of MNIST-style files: a magic number, big-endian dimensions, a payload.

Magic number: two zero bytes, a dtype code, the number of dimensions.  Then one
big-endian uint32 per dimension, then prod(dims) big-endian values, nothing more.
Files may be gzip-compressed (detected from the content, not the name).
"""
from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np

from tpnb.data.errors import DataFileError
from tpnb.data.sources import read_content

DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
CODES = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in the IDX file at path (gzip or raw), in native byte order."""
    return parse_idx(read_content(Path(path)).content, str(path))


def parse_idx(content: bytes, source: str) -> np.ndarray:
    """Decode the uncompressed bytes of an IDX file; source names the file in errors."""
    if len(content) < 4 or content[:2] != b"\x00\x00":
        raise DataFileError(f"{source}: not an IDX file (magic bytes {content[:4].hex() or 'missing'})")
    code, ndim = content[2], content[3]
    if code not in DTYPES:
        raise DataFileError(f"{source}: unknown IDX dtype code 0x{code:02x}")
    header_len = 4 + 4 * ndim
    if len(content) < header_len:
        raise DataFileError(f"{source}: truncated header, {len(content)} bytes for {ndim} dimensions")
    dims = tuple(int(d) for d in np.frombuffer(content, ">u4", count=ndim, offset=4))
    dtype = DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    actual = len(content) - header_len
    if actual != expected:
        problem = "truncated" if actual < expected else "over-long"
        raise DataFileError(f"{source}: {problem} payload, {actual} bytes but dims {dims} of "
                            f"{dtype.name} need {expected}")
    values = np.frombuffer(content, dtype, offset=header_len).reshape(dims)
    return values.astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Store array as an IDX file at path, gzip-compressed when the name ends in .gz."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in CODES:
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use one of "
                         f"{sorted(str(d) for d in CODES)}")
    header = bytes([0, 0, CODES[native], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    content = header + array.astype(DTYPES[CODES[native]]).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(content) if path.name.endswith(".gz") else content)
