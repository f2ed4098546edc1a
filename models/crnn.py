"""The CRNN: a small CNN reads columns of the image, a BiLSTM reads the columns in order, a linear
layer scores each column over the CTC classes. It knows nothing of training.

Images of different widths share a batch zero-padded to the widest. Given the images' widths, the
model reads each one as if it were alone: the CNN's padding columns are zeroed after every layer
(so a convolution at an image's edge sees zeros, as it does on the image alone) and the BiLSTM runs
on packed sequences (its backward pass starts at the image's own end, not in the padding). A
prediction therefore never depends on what else was in the batch. Training reads its batches
with the padding (no widths given): masking makes a CPU training step about twice as slow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from models.charset import NUM_CLASSES
from models.preprocess import TARGET_HEIGHT

# The CNN halves the width twice: one output column per 4 input columns.
WIDTH_STRIDE = 4


@dataclass(frozen=True)
class CRNNConfig:
    """The model's settings, the one carrier from ``params.yaml: model`` to the saved model file.

    The architecture (rebuilds the network from a model file) and the optimiser settings it was
    trained with. There are no code defaults: every value comes from the parameters.
    """

    cnn_width: int
    lstm_hidden: int
    lstm_layers: int
    dropout: float
    learning_rate: float
    weight_decay: float

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> CRNNConfig:
        """Build from a dict of settings (``params.yaml: model``, maybe with sweep overrides); every key
        must be a field and every field present, else ValueError naming them.
        """
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(params) - set(names))
        missing = [name for name in names if name not in params]
        if unknown or missing:
            raise ValueError(f"model settings: unknown {unknown}, missing {missing} (fields: {', '.join(names)})")
        return cls(**params)

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict (for model files, checkpoints and MLflow params)."""
        return asdict(self)

    def replace(self, **changes: Any) -> CRNNConfig:
        """A copy with some settings changed (unknown names raise ValueError)."""
        return CRNNConfig.from_params({**self.to_dict(), **changes})


def _conv(in_channels: int, out_channels: int) -> list[nn.Module]:
    """3x3 convolution, batch norm, ReLU."""
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class CRNN(nn.Module):
    """CNN + BiLSTM + linear CTC head over ``NUM_CLASSES`` classes (blank included)."""

    def __init__(self, config: CRNNConfig) -> None:
        super().__init__()
        self.config = config
        c = self.config.cnn_width
        self.cnn = nn.Sequential(
            *_conv(1, c),
            nn.MaxPool2d(2),  # (B, c, 16, W/2)
            *_conv(c, 2 * c),
            nn.MaxPool2d(2),  # (B, 2c, 8, W/4)
            *_conv(2 * c, 4 * c),
            *_conv(4 * c, 4 * c),
            nn.MaxPool2d((2, 1)),  # (B, 4c, 4, W/4)
            *_conv(4 * c, 4 * c),
            nn.Dropout2d(self.config.dropout),
        )
        features = 4 * c * (TARGET_HEIGHT // 8)
        self.project = nn.Linear(features, self.config.lstm_hidden)
        self.rnn = nn.LSTM(
            self.config.lstm_hidden,
            self.config.lstm_hidden,
            num_layers=self.config.lstm_layers,
            bidirectional=True,
            dropout=self.config.dropout if self.config.lstm_layers > 1 else 0.0,
        )
        self.head = nn.Linear(2 * self.config.lstm_hidden, NUM_CLASSES)

    def forward(self, images: torch.Tensor, widths: torch.Tensor | None = None) -> torch.Tensor:
        """Map images ``(B, 1, 32, W)`` to log-probabilities ``(T = W/4, B, NUM_CLASSES)``.

        ``widths`` ``(B,)`` are the images' own widths (multiples of ``WIDTH_STRIDE``) when the batch
        is padded; each image's scores are then those it gets alone. Without them every image is
        read at the full width, padding included.
        """
        padded = widths is not None and bool((widths < images.shape[-1]).any())
        features = images
        for layer in self.cnn:
            features = layer(features)
            if padded and isinstance(layer, nn.ReLU):
                features = features * _column_mask(widths, images.shape[-1], features)
        batch, channels, height, steps = features.shape  # (B, C, 4, T)
        columns = features.permute(3, 0, 1, 2).reshape(steps, batch, channels * height)  # (T, B, C*4)
        columns = torch.relu(self.project(columns))
        if padded:
            packed = nn.utils.rnn.pack_padded_sequence(columns, output_lengths(widths).cpu(), enforce_sorted=False)
            sequence, _ = nn.utils.rnn.pad_packed_sequence(self.rnn(packed)[0], total_length=steps)
        else:
            sequence, _ = self.rnn(columns)  # (T, B, 2H)
        with torch.autocast(sequence.device.type, enabled=False):  # scores in fp32 under mixed precision too
            return self.head(sequence.float()).log_softmax(dim=-1)  # (T, B, NUM_CLASSES)


def _column_mask(widths: torch.Tensor, full_width: int, features: torch.Tensor) -> torch.Tensor:
    """A ``(B, 1, 1, W')`` mask of the columns of ``features`` that lie inside each image."""
    scale = full_width // features.shape[-1]
    inside = torch.arange(features.shape[-1], device=features.device) < (widths.to(features.device) // scale)[:, None]
    return inside[:, None, None, :].to(features.dtype)


def output_lengths(widths: torch.Tensor) -> torch.Tensor:
    """Number of output columns the CRNN gives for images of the given widths."""
    return torch.div(widths, WIDTH_STRIDE, rounding_mode="floor")
