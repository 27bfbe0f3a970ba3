"""IDX reading: round trips, and every malformed file named in a DataFileError."""
import gzip

import numpy as np
import pytest

from tpnb.data import DataFileError, read_idx
from tpnb.data.idx import write_idx


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("name", ["a-idx.gz", "a-idx"])
def test_round_trip_keeps_values_shape_and_dtype(tmp_path, dtype, name):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    write_idx(tmp_path / name, array)
    loaded = read_idx(tmp_path / name)
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
    assert loaded.shape == (2, 3, 4)
    np.testing.assert_array_equal(loaded, array)


def test_header_is_big_endian_mnist_layout(tmp_path):
    write_idx(tmp_path / "labels", np.array([1, 2, 3], dtype=np.uint8))
    assert (tmp_path / "labels").read_bytes() == bytes.fromhex("00000801 00000003 010203")


def test_gzip_is_detected_from_content_not_name(tmp_path):
    content = bytes.fromhex("00000801 00000002 0709")
    (tmp_path / "labels-idx1-ubyte").write_bytes(gzip.compress(content))
    np.testing.assert_array_equal(read_idx(tmp_path / "labels-idx1-ubyte"), [7, 9])


def test_big_endian_input_array_is_stored_correctly(tmp_path):
    array = np.array([1.5, -2.0], dtype=">f8")
    write_idx(tmp_path / "x.gz", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), array)


def test_loaded_array_is_writable(tmp_path):
    write_idx(tmp_path / "x", np.zeros((2, 2), np.uint8))
    read_idx(tmp_path / "x")[0, 0] = 1


@pytest.mark.parametrize("cut, problem", [(1, "truncated payload"), (-1, "over-long payload")])
def test_wrong_payload_length_names_file_and_problem(tmp_path, cut, problem):
    write_idx(tmp_path / "images", np.zeros((3, 2, 2), np.uint8))
    content = (tmp_path / "images").read_bytes()
    bad = content[:-cut] if cut > 0 else content + b"\x00" * -cut
    (tmp_path / "bad.gz").write_bytes(gzip.compress(bad))
    with pytest.raises(DataFileError, match=f"bad.gz.*{problem}"):
        read_idx(tmp_path / "bad.gz")


@pytest.mark.parametrize("content, problem", [
    (b"\x01\x00\x08\x01" + b"\x00" * 8, "not an IDX file"),
    (b"PK\x03\x04", "not an IDX file"),
    (b"", "not an IDX file"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown IDX dtype code 0x07"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated header"),
])
def test_bad_header_raises(tmp_path, content, problem):
    (tmp_path / "f").write_bytes(content)
    with pytest.raises(DataFileError, match=problem):
        read_idx(tmp_path / "f")


def test_truncated_gzip_raises_naming_file(tmp_path):
    write_idx(tmp_path / "x.gz", np.arange(1000, dtype=np.int32))
    stored = (tmp_path / "x.gz").read_bytes()
    (tmp_path / "x.gz").write_bytes(stored[: len(stored) // 2])
    with pytest.raises(DataFileError, match="x.gz.*corrupt gzip"):
        read_idx(tmp_path / "x.gz")


def test_corrupted_gzip_stream_raises(tmp_path):
    write_idx(tmp_path / "x.gz", np.arange(1000, dtype=np.int32))
    stored = bytearray((tmp_path / "x.gz").read_bytes())
    stored[20:40] = bytes(b ^ 0xFF for b in stored[20:40])
    (tmp_path / "x.gz").write_bytes(bytes(stored))
    with pytest.raises(DataFileError, match="x.gz.*corrupt gzip"):
        read_idx(tmp_path / "x.gz")


def test_write_rejects_dtype_idx_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="IDX cannot store dtype uint16"):
        write_idx(tmp_path / "x", np.zeros(3, np.uint16))
