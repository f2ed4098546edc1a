"""Stage ``number_forms``: one test set per form people write numbers in, from the sources of handwriting.

The forms are :data:`pipelines.common.data.number_text.FORMS`: ``signed`` (``-12.5``, ``+3``),
``decimal_comma`` (``12,50``), ``thousands`` (``1,250.00``, ``1.250,00``), ``sci_e`` (``1.5e-3``) and
``sci_raised`` (``6.02×10^23``: ``^`` marks the raised exponent). Each source of handwriting writes,
beside its own splits, ``form_tests`` test numbers of each form from its test split only
(``<output>/forms/<form>/test``: the pen writer, the pendigits test writers, the held-out real
digits). This stage gathers them into ``datasets/forms/<form>/test``, one labelled folder per form
with files named by their source; a source that wrote none (pendigits absent) is left out with one
warning.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from pipelines.common.data.number_text import FORMS
from pipelines.common.data.splits import FORMS_DIR
from pipelines.common.labelled_folder import LABELS_FILE, read_folder, write_labels
from pipelines.common.params import start_stage

log = logging.getLogger("pipelines.number_forms")

SECTION = "number_forms"


def gather(sources: dict[str, Path], output: Path) -> dict[str, int]:
    """Copy each source's test images of each form into ``output/<form>/test``; return the images per form."""
    written = {}
    for form in FORMS:
        target = output / form / "test"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        rows: list[tuple[str, str]] = []
        for name, folder in sources.items():
            source = folder / FORMS_DIR / form / "test"
            if not (source / LABELS_FILE).is_file():
                log.warning("%s: %s has no test numbers of this form (%s): left out", form, name, source)
                continue
            for sample in read_folder(source):
                filename = f"{name}-{sample.path.name}"
                shutil.copyfile(sample.path, target / filename)
                rows.append((filename, sample.label))
        write_labels(target, rows)
        written[form] = len(rows)
        log.info("%s: %d images", form, len(rows))
    return written


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m pipelines.number_forms [--params params.yaml]``."""
    params: dict[str, Any]
    params, _ = start_stage(SECTION, __doc__.splitlines()[0], argv)
    gather({name: Path(folder) for name, folder in params["sources"].items()}, Path(params["output_dir"]))


if __name__ == "__main__":
    main()
