"""Export the accepted corrections from the service's database as labelled folders of training data.

``python -m pipelines.corrections [--out data/corrections] [--database-url URL]`` reads every accepted
correction (``DATABASE_URL``, else the service's embedded ``sqlite:///predictions.db`` in the working
directory), fetches each image from the URI the service recorded, and rewrites ``<out>/train`` and
``<out>/test`` completely: ``labels.csv`` (``filename,label``) beside ``<sha256>.png`` / ``.jpg``.

One row per image: when the same image was corrected several times, the latest review wins (ties:
the greater ``log_id``). The split follows the image hash alone (``params.yaml: corrections.test_percent``),
so an image never changes sides as corrections accumulate, and the same database gives byte-identical
folders. A split with no image holds only a ``SKIPPED`` file, which readers skip. A correction whose
image was not kept or cannot be read is skipped with a warning; a JSON summary ends the run.

This is not a ``dvc.yaml`` stage (its input is a live database and its output lies in ``data/``,
which ``data.dvc`` versions): run it, then ``dvc add data`` and ``dvc repro``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from models.charset import invalid_chars
from pipelines.common.corrections.database import AcceptedCorrection, CorrectionsDatabaseError, read_accepted
from pipelines.common.corrections.database_url import display_url
from pipelines.common.corrections.stored_images import StoredImageError, as_png_or_jpeg, fetch
from pipelines.common.labelled_folder import write_labels, write_skipped
from pipelines.common.params import stage_arguments, start_stage

log = logging.getLogger("pipelines.corrections")

SPLITS = ("train", "test")
EMBEDDED_DATABASE = "predictions.db"
NO_IMAGE = "no image kept"
UNREADABLE = "image unreadable"
BAD_LABEL = "label outside the charset"


@dataclass(frozen=True)
class ImageLabel:
    """One image to export: its hash, the label of its winning correction, and the URIs to try, best first."""

    sha256: str
    label: str
    log_id: str
    uris: tuple[str, ...]
    corrections: int


def recency(correction: AcceptedCorrection) -> tuple[bool, datetime, str]:
    """Sort key of corrections of one image: the latest review last, ties by ``log_id``."""
    reviewed = correction.reviewed_at
    return reviewed is not None, reviewed or datetime.min, correction.log_id


def choose(corrections: Iterable[AcceptedCorrection]) -> tuple[list[ImageLabel], Counter[str]]:
    """One entry per image hash, sorted by hash, and the corrections skipped, counted by reason."""
    by_hash: dict[str, list[AcceptedCorrection]] = defaultdict(list)
    skipped: Counter[str] = Counter()
    for correction in corrections:
        if correction.image_sha256 is None:
            skipped[NO_IMAGE] += 1
        else:
            by_hash[correction.image_sha256].append(correction)
    chosen = []
    for sha256 in sorted(by_hash):
        group = sorted(by_hash[sha256], key=recency, reverse=True)
        winner = group[0]
        uris = tuple(dict.fromkeys(c.image_uri for c in group if c.image_uri))
        if not uris:
            skipped[NO_IMAGE] += len(group)
        elif not winner.text or invalid_chars(winner.text):
            log.warning("log_id %s: label %r is not a number; skipped", winner.log_id, winner.text)
            skipped[BAD_LABEL] += len(group)
        else:
            chosen.append(ImageLabel(sha256, winner.text, winner.log_id, uris, len(group)))
    return chosen, skipped


def split_of(sha256: str, test_percent: int) -> str:
    """The split of an image, from its hash alone: about ``test_percent`` % of images are ``test``."""
    return "test" if int(sha256[:8], 16) % 100 < test_percent else "train"


def read_image(item: ImageLabel) -> tuple[bytes, str] | None:
    """The image's PNG or JPEG bytes and suffix from the first URI that works; None (and warnings) if none does."""
    for uri in item.uris:
        try:
            return as_png_or_jpeg(fetch(uri, item.sha256))
        except StoredImageError as exc:
            log.warning("log_id %s: image %s skipped: %s", item.log_id, uri, exc)
    return None


def replace_folder(staged: Path, final: Path) -> None:
    """Put a staged folder in place of ``final``, removing whatever ``final`` held."""
    if final.is_dir() and not final.is_symlink():
        shutil.rmtree(final)
    elif final.exists() or final.is_symlink():
        final.unlink()
    staged.rename(final)


def export(corrections: list[AcceptedCorrection], out: Path, test_percent: int) -> dict[str, int | dict[str, int]]:
    """Write the labelled folders ``out/train`` and ``out/test``; return the counts for the summary.

    Every accepted correction is counted once: exported (``train`` or ``test``), ``superseded`` by a
    later correction of the same image, or ``skipped`` (by reason).
    """
    chosen, skipped = choose(corrections)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out))
    rows: dict[str, list[tuple[str, str]]] = {split: [] for split in SPLITS}
    superseded = 0
    try:
        for split in SPLITS:
            (staging / split).mkdir()
        for item in chosen:
            image = read_image(item)
            if image is None:
                skipped[UNREADABLE] += item.corrections
                continue
            data, suffix = image
            split = split_of(item.sha256, test_percent)
            filename = f"{item.sha256}{suffix}"
            (staging / split / filename).write_bytes(data)
            rows[split].append((filename, item.label))
            superseded += item.corrections - 1
        for split in SPLITS:
            if rows[split]:
                write_labels(staging / split, rows[split])
            else:
                write_skipped(staging / split, f"no accepted correction fell in the {split} split")
        for split in SPLITS:
            replace_folder(staging / split, out / split)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "accepted": len(corrections),
        **{split: len(rows[split]) for split in SPLITS},
        "superseded": superseded,
        "skipped": sum(skipped.values()),
        "skipped_by_reason": dict(sorted(skipped.items())),
    }


def main(argv: list[str] | None = None) -> None:
    """Export the accepted corrections and print a JSON summary."""
    parser = stage_arguments(__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="output folder (default: params.yaml corrections.output_dir)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or f"sqlite:///{Path.cwd() / EMBEDDED_DATABASE}",
        help=f"the service's database (default: $DATABASE_URL, else the service's {EMBEDDED_DATABASE} here)",
    )
    params, args = start_stage("corrections", __doc__.splitlines()[0], argv, parser)
    test_percent = params["test_percent"]
    if isinstance(test_percent, bool) or not isinstance(test_percent, int) or not 0 <= test_percent <= 100:
        raise SystemExit(f"error: params.yaml corrections.test_percent must be an integer 0-100, got {test_percent!r}")
    out = args.out or Path(params["output_dir"])
    try:
        corrections = read_accepted(args.database_url)
    except CorrectionsDatabaseError as exc:
        raise SystemExit(f"error: {exc}") from exc
    summary = {"database": display_url(args.database_url), "output": str(out)}
    summary.update(export(corrections, out, test_percent))
    if summary["skipped"]:
        log.warning("%d accepted corrections skipped: %s", summary["skipped"], summary["skipped_by_reason"])
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
