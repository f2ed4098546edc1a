"""The LightningModule: CTC loss, optimiser and schedule, validation metrics around a plain CRNN."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn

from models.crnn import CRNN, CRNNConfig, output_lengths
from models.decoding import greedy_decode
from models.metrics import character_error_rate, exact_match


class LitCRNN(pl.LightningModule):
    """Trains a CRNN with CTC. Batches are ``(images, widths, targets, target_lengths, labels)``."""

    def __init__(self, config: dict[str, Any]) -> None:
        """``config`` is a :class:`CRNNConfig` as a dict (so checkpoints hold plain data)."""
        super().__init__()
        self.save_hyperparameters()
        self.config = CRNNConfig.from_params(config)
        self.model = CRNN(self.config)
        self.ctc = nn.CTCLoss(blank=0, zero_infinity=True)
        self._val_predictions: list[str] = []
        self._val_labels: list[str] = []

    def on_fit_start(self) -> None:
        """Train in channels-last layout: oneDNN's convolutions run about 15 % faster on the CPU."""
        self.model.to(memory_format=torch.channels_last)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(T, B, C)`` for a padded batch, padding included: masking it (see
        ``models.crnn``) makes a training step on the CPU about twice as slow, and only inference
        needs each image read exactly as if alone.
        """
        return self.model(images.contiguous(memory_format=torch.channels_last))

    def _loss(self, batch: tuple) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        images, widths, targets, target_lengths, _ = batch
        log_probs = self(images)
        lengths = output_lengths(widths)
        loss = self.ctc(log_probs, targets, lengths, target_lengths)
        return loss, log_probs, lengths

    def training_step(self, batch: tuple, batch_idx: int) -> torch.Tensor:
        """CTC loss on one batch."""
        loss, _, _ = self._loss(batch)
        self.log("train_loss", loss, prog_bar=True, batch_size=batch[0].shape[0])
        return loss

    def validation_step(self, batch: tuple, batch_idx: int) -> None:
        """CTC loss and greedy decodes for the epoch's exact match and CER."""
        loss, log_probs, lengths = self._loss(batch)
        self.log("val_loss", loss, prog_bar=True, batch_size=batch[0].shape[0])
        log_probs = log_probs.detach().cpu().numpy()
        for i, length in enumerate(lengths.tolist()):
            self._val_predictions.append(greedy_decode(log_probs[:length, i]).text)
        self._val_labels.extend(batch[4])

    def on_validation_epoch_end(self) -> None:
        """Log exact match and CER over the whole validation set."""
        if self._val_labels:
            self.log("val_exact_match", exact_match(self._val_predictions, self._val_labels), prog_bar=True)
            self.log("val_cer", character_error_rate(self._val_predictions, self._val_labels))
        self._val_predictions.clear()
        self._val_labels.clear()

    def configure_optimizers(self) -> dict:
        """AdamW with a one-cycle learning-rate schedule over the whole run."""
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.config.learning_rate, weight_decay=self.config.weight_decay
        )
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=self.config.learning_rate,
            total_steps=int(self.trainer.estimated_stepping_batches),
            pct_start=0.15,
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
