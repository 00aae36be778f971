"""Downloads served with byte ranges (RFC 9110 §14), so Parquet readers (DuckDB ``httpfs``, pyarrow, polars)
fetch only the footer and the row groups they need.

Starlette's ``FileResponse`` answers ``Range`` (one range: 206 with ``Content-Range``; several:
``multipart/byteranges``; ``If-Range``), HEAD and ``Accept-Ranges: bytes``. Two rules are set here: a range unit
other than ``bytes`` is ignored (the whole file, 200, as RFC 9110 requires), and a ``bytes`` range that is
unsatisfiable or malformed (``bytes=500-100``, ``bytes=x``) is refused with 416 and ``Content-Range: bytes */<size>``
instead of Starlette's 400.
"""

from __future__ import annotations

from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable


class RangeFileResponse(FileResponse):
    """A file answered whole or by byte ranges."""

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        unit = http_range.split("=", 1)[0].strip().lower()
        if unit != "bytes" or "=" not in http_range:
            return []  # not a byte range: ignored, the whole file is sent
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader:
            raise RangeNotSatisfiable(file_size) from None


RANGE_RESPONSES: dict[int | str, dict] = {
    206: {"description": "Partial content: the byte range asked for (``Content-Range``), or several as "
                         "``multipart/byteranges``"},
    416: {"description": "Range not satisfiable (``Content-Range: bytes */<size>``)"},
}
"""OpenAPI declarations of the byte-range answers of a download route."""
