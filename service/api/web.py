"""The web UI and the API docs: ``/`` and the built UI's files (``service/web/dist``), ``/docs``.

The UI's folder is walked once (``service.http.web_files``); the Swagger UI at ``/docs`` shows the
whole service's OpenAPI document (``/docs.json``, BentoML's) with BentoML's bundled assets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from starlette.staticfiles import StaticFiles

from service.http.web_files import web_folder

router = APIRouter()


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI for the whole service (BentoML's spec and bundled assets, nothing from a CDN)."""
    return get_swagger_ui_html(
        openapi_url="/docs.json",
        title="Digitify API",
        swagger_js_url="/static_content/swagger-ui-bundle.js",
        swagger_css_url="/static_content/swagger-ui.css",
        swagger_favicon_url="/static_content/favicon-light-32x32.png",
    )


def mount_web(target: FastAPI, web_dir: Path) -> None:
    """Serve a built web UI: ``/`` is its index.html, its top-level files and folders keep their names."""
    folder = web_folder(web_dir)
    if folder.index is None:
        return
    target.add_api_route("/", _file_route(folder.index), methods=["GET"], include_in_schema=False)
    for path, directory in folder.folders.items():
        target.mount(path, StaticFiles(directory=directory), name=f"web-{directory.name}")
    for path, file in folder.files.items():
        if file != folder.index:
            target.add_api_route(path, _file_route(file), methods=["GET"], include_in_schema=False)


def _file_route(path: Path) -> Callable[[], Awaitable[FileResponse]]:
    """Make a route handler answering one static file."""

    async def serve() -> FileResponse:
        return FileResponse(path)

    return serve
