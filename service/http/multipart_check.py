"""Check a multipart upload's parts as its bytes arrive, and keep its files: the upload's one parse.

The parser (python-multipart's streaming parser, the one Starlette uses) reads each byte once and
caps every part header line at ``python_multipart``'s default size and count, so a hostile header
costs linear time and is refused after a few kilobytes. The checker stops at the first part that
breaks a rule: a name other than the route's field, a text value instead of a file, or one part
more than the route allows. The files' bytes are kept in order (``files``): the prediction routes
read them from there (``service.http.request_guard``), so nothing parses the body a second time.
"""

from __future__ import annotations

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

CONTENT_DISPOSITION = b"content-disposition"


class MultipartRejectedError(ValueError):
    """The upload breaks a rule; ``status`` is the HTTP status to answer and the message says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def boundary_of(parameters: str) -> bytes | None:
    """Return the ``boundary`` parameter of a multipart content type's parameters, if any."""
    _, options = parse_options_header("multipart/form-data;" + parameters)
    boundary = options.get(b"boundary")
    return boundary or None


class MultipartChecker:
    """Feed a multipart body in chunks; it raises MultipartRejectedError at the first broken rule.

    After :meth:`finish`, ``files`` holds each file part's bytes, in the order they came.
    """

    def __init__(self, parameters: str, field: str, max_parts: int, too_many: str) -> None:
        boundary = boundary_of(parameters)
        if boundary is None:
            raise MultipartRejectedError("the multipart content type has no boundary")
        self.field = field
        self.max_parts = max_parts
        self.too_many = too_many
        self.parts = 0
        self.finished = False
        self.files: list[bytes] = []
        self._part = bytearray()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._disposition: bytes | None = None
        callbacks = {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }
        try:
            self._parser = MultipartParser(boundary, callbacks)
        except ValueError as exc:
            raise MultipartRejectedError(f"the multipart boundary is unusable: {exc}") from exc

    def feed(self, chunk: bytes) -> None:
        """Parse the next chunk of the body."""
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise MultipartRejectedError(f"the multipart body is malformed: {exc}") from exc

    def finish(self) -> None:
        """Check the body ended as a complete multipart message with at least one part."""
        if not self.finished:
            raise MultipartRejectedError("the multipart body is malformed: it ends before its closing boundary")
        if self.parts == 0:
            raise MultipartRejectedError(f"no image: send it in the multipart field {self.field!r}")

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.max_parts:
            raise MultipartRejectedError(self.too_many, 413 if self.max_parts > 1 else 400)
        self._disposition = None

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if bytes(self._header_field).strip().lower() == CONTENT_DISPOSITION:
            self._disposition = bytes(self._header_value).strip()
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        if self._disposition is None:
            raise MultipartRejectedError("the multipart body is malformed: a part has no Content-Disposition")
        kind, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if kind != b"form-data" or name is None:
            raise MultipartRejectedError("the multipart body is malformed: a part has no form-data name")
        field = name.decode("utf-8", "replace")
        if field != self.field:
            raise MultipartRejectedError(f"unexpected form field {field!r}: send images in the field {self.field!r}")
        if b"filename" not in options:
            raise MultipartRejectedError(f"the field {self.field!r} must be a file upload, not a text value")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._part += data[start:end]

    def _part_end(self) -> None:
        self.files.append(bytes(self._part))
        self._part.clear()

    def _end(self) -> None:
        self.finished = True
