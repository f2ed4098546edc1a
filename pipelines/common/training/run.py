"""One training run of the CRNN with Lightning, shared by the sweep's trials and the final training."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import Logger

from models.calibration import Calibration, fit_calibration
from models.charset import NUM_CLASSES
from models.crnn import CRNNConfig
from models.lit_crnn import LitCRNN
from models.metrics import exact_match
from models.recognizer import Recognizer, load_model_file, trained_classes
from pipelines.common.training.packed_data import PackedDataModule, PackedSet, pack

log = logging.getLogger(__name__)

MONITOR_MODES = {"val_exact_match": "max", "val_cer": "min", "val_loss": "min"}
PRECISIONS = ("auto", "bf16-mixed", "32-true")
MIN_CALIBRATION_IMAGES = 200  # fewer validation images of the chosen sources: calibrate on them all


def resolve_precision(requested: str) -> str:
    """Lightning's precision for ``requested``: ``auto`` is bf16 mixed precision on a GPU that has it
    or where the CPU runs bf16 natively through oneDNN (AVX-512 and newer; about 1.8x faster), else fp32.
    """
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {requested!r}")
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "32-true"
    bf16_supported = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    return "bf16-mixed" if torch.backends.mkldnn.is_available() and bf16_supported() else "32-true"


@dataclass
class RunSettings:
    """How long and how a run trains (``params.yaml: train``, overridden per sweep trial)."""

    max_epochs: int = 10
    batch_size: int = 64
    patience: int = 3
    seed: int = 0
    monitor: str = "val_exact_match"
    precision: str = "auto"
    jitter: float = 0.0
    source_weights: dict[str, int] = field(default_factory=dict)
    init_from: Path | None = None
    checkpoint_dir: Path | None = None
    progress_bar: bool = True
    callbacks: list[Callback] = field(default_factory=list)
    logger: Logger | bool = False


class EpochLog(Callback):
    """One log line per epoch (progress bars are invisible in CI logs and ``dvc repro`` output)."""

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Start the clock."""
        self.started = time.perf_counter()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Log the epoch's metrics (after the module has logged its epoch-level ones)."""
        metrics = {k: round(float(v), 4) for k, v in trainer.callback_metrics.items()}
        log.info("epoch %d (%.0f s): %s", trainer.current_epoch, time.perf_counter() - self.started, metrics)


def fit(train: PackedSet, val: PackedSet, config: CRNNConfig, settings: RunSettings) -> tuple[LitCRNN, float]:
    """Train a LitCRNN for ``settings.max_epochs`` (fewer only by early stopping); return the best
    checkpoint's module (by ``settings.monitor``) and that score. Each training image is drawn per
    epoch as many times as ``settings.source_weights`` says for its source (1 for a source not named).

    With ``settings.init_from`` it starts from that model file's weights (fine-tuning). The run's
    length is set by epochs alone, never by the wall clock, so the same parameters give the
    same model on any machine. It uses the accelerator that is present (Lightning's ``auto``: the
    GPUs where there are any, with DDP across several; else the CPU). Checkpoints go to
    ``settings.checkpoint_dir``, or to a temporary folder removed afterwards.
    """
    if settings.checkpoint_dir is None:
        with tempfile.TemporaryDirectory(prefix="digitify-trial-") as scratch:
            return fit(train, val, config, replace(settings, checkpoint_dir=Path(scratch)))
    mode = MONITOR_MODES[settings.monitor]
    pl.seed_everything(settings.seed, workers=True, verbose=False)
    module = LitCRNN(config.to_dict())
    if settings.init_from is not None:
        start_from(module, settings.init_from)
    checkpoint = ModelCheckpoint(
        dirpath=settings.checkpoint_dir, monitor=settings.monitor, mode=mode, save_top_k=1, filename="best"
    )
    trainer = pl.Trainer(
        accelerator="auto",
        precision=resolve_precision(settings.precision),
        max_epochs=settings.max_epochs,
        callbacks=[
            checkpoint,
            EarlyStopping(settings.monitor, mode=mode, patience=settings.patience),
            EpochLog(),
            *settings.callbacks,
        ],
        logger=settings.logger,
        enable_progress_bar=settings.progress_bar,
        enable_model_summary=False,
        deterministic="warn",  # CUDA's CTC backward has no deterministic kernel; the CPU's ops all do
        gradient_clip_val=5.0,
        default_root_dir=str(settings.checkpoint_dir),
        num_sanity_val_steps=0,
    )
    data = PackedDataModule(
        train, val, settings.batch_size, settings.seed, settings.jitter, source_weights=settings.source_weights
    )
    trainer.fit(module, datamodule=data)
    if checkpoint.best_model_score is None:
        raise RuntimeError(f"training logged no {settings.monitor}: no validation epoch finished")
    best_score = float(checkpoint.best_model_score)
    if checkpoint.best_model_path:
        module = LitCRNN.load_from_checkpoint(checkpoint.best_model_path)
    return module.eval(), best_score


ARCHITECTURE = ("cnn_width", "lstm_hidden", "lstm_layers")


def start_from(module: LitCRNN, path: Path) -> None:
    """Load a model file's weights into ``module``, to fine-tune it; the architectures must match."""
    model, _, _ = load_model_file(path)
    theirs = {key: getattr(model.config, key) for key in ARCHITECTURE}
    ours = {key: getattr(module.config, key) for key in ARCHITECTURE}
    if theirs != ours:
        raise ValueError(
            f"{path}: architecture {theirs} differs from params.yaml model {ours}; fine-tuning needs the same"
        )
    module.model.load_state_dict(model.state_dict())
    classes = trained_classes(path)
    if classes < NUM_CLASSES:
        learn_new_classes(module.model.head, classes)
        log.info("%s reads the first %d of %d classes: the others start to learn", path, classes, NUM_CLASSES)
    log.info("starting from the weights of %s", path)


def learn_new_classes(head: torch.nn.Linear, classes: int) -> None:
    """Give the head's classes from ``classes`` on a start they can learn from (they had none).

    Small random weights, and the bias of the trained characters' mean less 2: rare at first
    (the trained readings barely move), and free to grow where the new labels ask for them.
    """
    with torch.no_grad():
        trained = head.bias[1:classes]
        head.weight[classes:] = torch.randn_like(head.weight[classes:]) * head.weight[1:classes].std()
        head.bias[classes:] = trained.mean() - 2.0


def calibration_set(
    val: PackedSet, sources: Sequence[str] | None = None, minimum: int = MIN_CALIBRATION_IMAGES
) -> PackedSet:
    """The validation images a calibration is fitted on: those of ``sources`` (all of ``val`` when
    ``sources`` is empty or None). The model fits synthetic sources far better than the real writing
    people send; fitting on the real-like sources keeps the confidence tied to that writing whatever
    share of the validation set the synthetic ones make up. With fewer than ``minimum`` such images
    the fit would be noise: then the whole set, with a log line.
    """
    if not sources:
        return val
    wanted = set(sources)
    chosen = [i for i, source in enumerate(val.sources) if source in wanted]
    if len(chosen) < minimum:
        present = sorted(wanted & set(val.sources))
        log.info(
            "calibration: %d validation images from %s (of %s) are fewer than %d; fitting on all %d instead",
            len(chosen),
            present or "no source",
            sorted(wanted),
            minimum,
            len(val),
        )
        return val
    if len(chosen) == len(val):
        return val
    log.info("calibration: fitting on %d validation images of %s", len(chosen), sorted(wanted & set(val.sources)))
    return pack([val.image(i) for i in chosen], [val.labels[i] for i in chosen], [val.sources[i] for i in chosen])


def calibrate(module: LitCRNN, val: PackedSet, sources: Sequence[str] | None = None) -> Calibration:
    """Fit the confidence calibration of a trained module on validation data: on the images of
    ``sources`` only when given (see :func:`calibration_set`).
    """
    chosen = calibration_set(val, sources)
    decoded = Recognizer(module.model).decode_normalized(chosen.images())
    scores = np.array([d.log_score for d in decoded])
    correct = np.array([d.text == label for d, label in zip(decoded, chosen.labels, strict=True)])
    return fit_calibration(scores, correct)


def exact_match_on(recognizer: Recognizer, packed: PackedSet) -> float:
    """Exact match of a recognizer on a packed set."""
    predictions = recognizer.predict_normalized(packed.images())
    return exact_match([p.text for p in predictions], packed.labels)
