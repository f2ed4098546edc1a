"""Stage ``pack``: normalize the train and validation splits of every data source once.

Reads the labelled folders ``<source dir>/{train,val}`` named in ``params.yaml: pack.sources``
and writes ``<output>/train.npz`` and ``<output>/val.npz`` for the sweep and training stages.
A source whose split holds no ``labels.csv`` (e.g. SVHN skipped offline) is left out with a log line.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pipelines.common.labelled_folder import LABELS_FILE
from pipelines.common.params import start_stage
from pipelines.common.training.packed_data import pack_folders

log = logging.getLogger("pipelines.pack")


def available_folders(sources: dict[str, str], split: str) -> dict[str, Path]:
    """The ``split`` folders of the sources that have one, by source name."""
    folders = {}
    for name, root in sources.items():
        folder = Path(root) / split
        if (folder / LABELS_FILE).is_file():
            folders[name] = folder
        else:
            log.warning("%s: no %s split at %s; left out", name, split, folder)
    return folders


def main(argv: list[str] | None = None) -> None:
    """Pack the train and val splits of the configured sources."""
    params, _ = start_stage("pack", __doc__.splitlines()[0], argv)
    output = Path(params["output"])
    output.mkdir(parents=True, exist_ok=True)
    summary = {}
    for split in ("train", "val"):
        folders = available_folders(params["sources"], split)
        if not folders:
            raise SystemExit(f"error: no source has a {split} split; run the dataset stages first")
        packed = pack_folders(folders, workers=params.get("workers", 2))
        packed.save(output / f"{split}.npz")
        summary[split] = {name: packed.sources.count(name) for name in folders}
        log.info("%s: %d images packed", split, len(packed))
    (output / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
