"""Errors raised when a data file exists but cannot be trusted or parsed."""


class DataFileError(ValueError):
    """A data file is malformed: bad header, wrong length, corrupt compression or pickle."""


class ChecksumError(DataFileError):
    """A data file's content does not match the checksum recorded for it."""
