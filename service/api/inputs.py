"""The prediction routes' inputs as BentoML input specs: documented as uploads, read from the request guard's parse.

The request guard (``service.http.request_guard``) reads and checks each upload's body as it
arrives, with python-multipart's streaming parser or ``json``; these specs give the API functions
what it parsed (the image files' bytes, or the base64 string) instead of letting BentoML parse the
body a second time into temporary files. BentoML still documents them (``/docs``: a multipart
form with binary file fields, or a JSON object) and calls the API functions with them.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import bentoml
from pydantic import Field
from starlette.requests import Request

from service.http.request_guard import guarded_inputs


class GuardedInput(bentoml.IODescriptor):
    """A route's input taken from the request guard's parse of the body, never parsed again."""

    @classmethod
    async def from_http_request(cls, request: Request, serde: Any) -> GuardedInput:
        """The guard's parsed fields, unvalidated again (the guard checked them)."""
        inputs = guarded_inputs(request.scope)
        if inputs is None:
            raise RuntimeError(f"{request.url.path} has no parsed input: the request guard must cover it")
        return cls.model_construct(**inputs)


class UploadInput(GuardedInput):
    """A multipart form whose every field is a file upload."""

    media_type: ClassVar[str | None] = "multipart/form-data"

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Mark every field a file part, so the docs show each as a file, not as a JSON value."""
        super().__pydantic_init_subclass__(**kwargs)
        cls.multipart_fields = list(cls.model_fields)


class ImageUpload(UploadInput):
    """``/predict`` and ``/preview``: one image file in the field ``image``."""

    image: Annotated[bytes, Field(description="the image file: PNG, JPEG or another common format")]


class ImagesUpload(UploadInput):
    """``/predict_batch``: image files in the repeated field ``images``."""

    images: Annotated[list[bytes], Field(description="the image files, one result each, in this order")]


class Base64Image(GuardedInput):
    """``/predict_base64``: a JSON object whose ``image`` is base64 or a ``data:image/...;base64,`` URL."""

    image: Annotated[str, Field(description="base64 image bytes, or a data URL as a canvas's toDataURL() gives")]
