"""The inference process: uploaded bytes in, readings out, beside the web worker rather than inside it.

Decoding, normalizing and the model are CPU work done under Python's global interpreter lock. In
the web worker they took turns with the event loop, the middleware and the log, so one worker
used little more than one core however many it had. The worker therefore starts child processes
(``DIGITIFY_INFERENCE_PROCESSES``; ``spawn``: a fresh interpreter, no inherited threads), each of
which loads the same model file and reads batches for it: the worker's ``service.prediction.pool``
sends every upload waiting (the image's bytes) through a pipe and gets one :class:`Reading` per
upload back.

An upload sent with its :class:`LogContext` gets its prediction-log row written by the child, in
one durable spool commit per batch, before the readings go back. The answer's row is safe before
the answer leaves, as ever, and a request costs no hand-off to a spool writer thread in the worker
(on a small virtual machine each wake-up of another thread cost a few tenths of a millisecond).

What the child cannot read is a reading too (the error and its HTTP status, as
``service.prediction.uploads.prepare`` decided), never an exception. A failure of the model on one batch
fails that batch's callers. A child that dies is started again, and the batch it took is failed
(``InferenceProcessError``), so callers get a 503 and the service goes on.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import torch

from models.recognizer import Recognizer
from service.corrections.image_store import ImageStore
from service.prediction.image_end import trailing_bytes
from service.prediction.uploads import InputError, PreparedImage, prepare, preview_png
from service.predlog.rows import LogContext, log_row, to_spool_row
from service.predlog.spool import Spool

logger = logging.getLogger(__name__)
START_TIMEOUT_S = 120.0


class InferenceProcessError(RuntimeError):
    """The inference process failed on a batch (it died, or the model raised)."""


class InferenceProcessDiedError(InferenceProcessError):
    """The inference process died, or is closed: the batch it held is lost, and it must be started again."""


@dataclass(frozen=True)
class InferenceConfig:
    """What the child needs: the model file, its version label, threads, the upload limit, where to keep images.

    ``spool_path``: the prediction log's spool, where the child writes the rows of uploads sent
    with a :class:`LogContext`.
    """

    model_file: Path
    model_version: str
    torch_threads: int
    max_upload_bytes: int
    image_store: str | None = None
    spool_path: Path | None = None


@dataclass(frozen=True)
class Upload:
    """One upload to read (the image's bytes), and its log context if it is logged."""

    data: bytes
    log: LogContext | None = None
    keep: bool = True  # may its image be kept (the user's quota and the store's room allow it)
    preview: bool = False  # only render what the model would read (``/preview``): no model, no keeping, no log


@dataclass(frozen=True)
class Reading:
    """What the inference process made of one upload: the image's facts, and the answer or why there is none."""

    nbytes: int
    sha256: str
    width: int | None
    height: int | None
    error: str | None = None
    status: int = 200
    text: str | None = None
    confidence: float | None = None
    char_confidences: tuple[float, ...] = ()
    kept: bool = False  # its image is in the store now
    preview_png: bytes | None = None  # a preview upload's normalized image, as PNG

    @property
    def input_error(self) -> InputError | None:
        """The refusal to answer, for an upload that could not be read."""
        return None if self.error is None else InputError(self.error, self.status)


class InferenceProcess:
    """The parent's handle on one child: ``send`` it a batch, ``receive`` the readings (``InferencePool`` does both)."""

    def __init__(self, config: InferenceConfig, wait: bool = True) -> None:
        self.config = config
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None
        self._closed = False
        self._launch()
        if wait:
            self.wait_ready()

    def _launch(self) -> None:
        """Start a child; it loads the model while the caller goes on."""
        parent_end, child_end = self._context.Pipe()
        self._process = self._context.Process(
            target=serve, args=(child_end, self.config), name="digitify-inference", daemon=True
        )
        self._process.start()
        child_end.close()
        self._connection = parent_end

    def wait_ready(self) -> None:
        """Wait until the child has loaded its model; raise InferenceProcessError if it cannot."""
        process, connection = self._process, self._connection
        if process is None or connection is None:
            raise InferenceProcessError("the inference process is closed")
        if not connection.poll(START_TIMEOUT_S):
            process.kill()
            raise InferenceProcessError(f"the inference process did not start within {START_TIMEOUT_S:.0f} s")
        try:
            ready = connection.recv()
        except EOFError as exc:
            process.join(5)
            raise InferenceProcessError(f"the inference process exited at start (code {process.exitcode})") from exc
        if ready != "ready":
            raise InferenceProcessError(f"the inference process could not start: {ready}")

    def _pipe(self) -> Connection:
        """The parent's end of the pipe; raises InferenceProcessDiedError once the process is closed."""
        if self._connection is None:
            raise InferenceProcessDiedError("the inference process is closed")
        return self._connection

    def fileno(self) -> int:
        """The parent's end of the pipe: readable once the child has answered, or has died."""
        return self._pipe().fileno()

    def send(self, uploads: list[Upload]) -> None:
        """Hand the (idle) child a batch of uploads."""
        pipe = self._pipe()
        try:
            pipe.send(uploads)
        except OSError as exc:
            raise InferenceProcessDiedError("the inference process died before reading this batch") from exc

    def has_reply(self) -> bool:
        """Whether ``receive`` would not wait: the child's answer (or its death) is in the pipe."""
        try:
            return self._pipe().poll(0)
        except (InferenceProcessDiedError, OSError):
            return True  # closed or broken: ``receive`` says so at once

    def receive(self) -> list[Reading]:
        """The readings of the batch sent, their log rows spooled.

        Raises InferenceProcessDiedError if the child died, InferenceProcessError if it failed on the batch.
        """
        pipe = self._pipe()
        try:
            reply = pipe.recv()
        except (EOFError, OSError) as exc:
            raise InferenceProcessDiedError("the inference process died while reading this batch") from exc
        if isinstance(reply, str):
            raise InferenceProcessError(reply)
        return reply

    def restart(self) -> None:
        """Start a new child in place of a dead one and wait for its model (nothing once closed).

        Raises InferenceProcessError if the new child cannot start either.
        """
        with self._lock:
            self._restart()

    def _restart(self) -> None:
        """``restart`` with the lock held."""
        if self._closed:
            return
        code = self._process.exitcode if self._process is not None else None
        logger.error("the inference process died (exit code %s); starting a new one", code)
        self._stop()
        self._launch()
        try:
            self.wait_ready()
        except InferenceProcessError as exc:
            logger.error("the new inference process did not start: %s", exc)
            raise

    def _stop(self) -> None:
        """Close the pipe (the child exits at its end) and reap the child."""
        if self._connection is not None:
            self._connection.close()
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
        self._process = self._connection = None

    def close(self) -> None:
        """Stop the child for good."""
        with self._lock:
            self._closed = True
            self._stop()


def serve(connection: Connection, config: InferenceConfig) -> None:
    """The child: load the model, then read batches (and spool their log rows) until the parent closes the pipe."""
    try:
        torch.set_num_threads(config.torch_threads)
        recognizer = Recognizer.from_file(config.model_file, model_version=config.model_version)
        store = ImageStore(config.image_store) if config.image_store else None
        spool = Spool(config.spool_path) if config.spool_path else None
    except Exception as exc:  # the parent reports it and refuses to start
        connection.send(f"{type(exc).__name__}: {exc}")
        return
    connection.send("ready")
    while True:
        try:
            uploads: list[Upload] = connection.recv()
        except (EOFError, OSError):
            return
        try:
            datas = [upload.data for upload in uploads]
            keep = [upload.keep and not upload.preview for upload in uploads]
            previews = [upload.preview for upload in uploads]
            readings = read_batch(recognizer, store, datas, config.max_upload_bytes, keep, previews)
            spool_rows(spool, uploads, readings, config.model_version)
        except Exception as exc:  # a failure fails this batch, not the process
            logging.getLogger(__name__).exception("could not read a batch of %d uploads", len(uploads))
            connection.send(f"the model failed: {type(exc).__name__}: {exc}")
        else:
            connection.send(readings)


def spool_rows(spool: Spool | None, uploads: list[Upload], readings: list[Reading], model_version: str) -> None:
    """Write the log rows of the uploads sent with a log context, in one durable spool commit."""
    rows = [
        to_spool_row(reading_row(reading, upload.log, model_version))
        for upload, reading in zip(uploads, readings, strict=True)
        if upload.log is not None
    ]
    if rows and spool is None:
        raise RuntimeError("uploads to log, but the inference process has no spool")
    if spool is not None:
        spool.append(rows)


def reading_row(reading: Reading, context: LogContext, model_version: str) -> dict[str, object]:
    """The prediction-log row of one upload's reading (an answer, or why the upload was refused)."""
    answered = reading.error is None
    return log_row(
        context,
        model_version,
        error=reading.error,
        text=reading.text if answered else None,
        confidence=reading.confidence if answered else None,
        char_confidences=list(reading.char_confidences) if answered else None,
        image_width=reading.width,
        image_height=reading.height,
        image_bytes=reading.nbytes if reading.sha256 else None,
        image_sha256=reading.sha256 or None,
    )


def read_batch(
    recognizer: Recognizer,
    store: ImageStore | None,
    uploads: list[bytes],
    max_bytes: int,
    keep: list[bool] | None = None,
    previews: list[bool] | None = None,
) -> list[Reading]:
    """Prepare every upload, keep the readable ones' images (where ``keep`` allows), read them in one model call.

    A ``previews`` upload is only prepared: its reading holds the normalized image as PNG, not a text.
    """
    prepared: list[PreparedImage] = []
    kept: list[bool] = []
    for index, data in enumerate(uploads):
        prepared.append(prepare(data, max_bytes))
        allowed = keep is None or keep[index]
        keepable = prepared[-1].error is None and store is not None and allowed and not trailing_bytes(data)
        kept.append(keepable and store.keep(prepared[-1].sha256, data))  # nothing hidden after the image
    preview = previews or [False] * len(prepared)
    good = [image for image, only in zip(prepared, preview, strict=True) if image.error is None and not only]
    predictions = iter(recognizer.predict_normalized([image.array for image in good]))
    readings = []
    for image, is_kept, only in zip(prepared, kept, preview, strict=True):
        facts = {
            "nbytes": image.nbytes,
            "sha256": image.sha256,
            "width": image.width,
            "height": image.height,
            "kept": is_kept,
        }
        if image.error is not None:
            readings.append(Reading(**facts, error=str(image.error), status=image.error.status))
        elif only:
            readings.append(Reading(**facts, preview_png=preview_png(image.array)))
        else:
            answer = next(predictions)
            readings.append(
                Reading(
                    **facts,
                    text=answer.text,
                    confidence=answer.confidence,
                    char_confidences=tuple(answer.char_confidences),
                )
            )
    return readings
