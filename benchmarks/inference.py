"""Inference benchmark: prints JSON with ms per image at batch 1 on one thread, images/s at batch 64,
the end-to-end images/s (PNG bytes -> preprocessing -> model in batches of 64 -> text, all cores),
the parameter count and the FLOPs per image.

Usage: ``python benchmarks/inference.py [--model URI-or-model-file] [--data LABELLED_FOLDER]``.
Defaults: the champion from the MLflow registry and the USPS benchmark set (or drawn numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.preprocess import collate, normalize
from models.recognizer import Recognizer
from models.registry import CHAMPION_URI, fetch_model_file
from pipelines.common.labelled_folder import read_folder


def time_batches(recognizer: Recognizer, arrays: list, batch_size: int, repeats: int) -> list[float]:
    """Seconds per call of ``predict_normalized`` over consecutive batches."""
    timings = []
    for i in range(repeats):
        start = (i * batch_size) % max(len(arrays) - batch_size, 1)
        batch = arrays[start : start + batch_size]
        began = time.perf_counter()
        recognizer.predict_normalized(batch, batch_size=batch_size)
        timings.append(time.perf_counter() - began)
    return timings


def end_to_end_images_per_s(
    recognizer: Recognizer, pngs: list[bytes], images: int = 1024, batch_size: int = 64
) -> float:
    """Images/s from encoded bytes to text: a chunk of ``batch_size`` is decoded and normalized on
    every core at once, then read by the model in one batch on every core, chunk after chunk.

    The reference the HTTP service is measured against (``benchmarks/service_load.py``).
    """
    cores = os.cpu_count() or 1
    torch.set_num_threads(cores)
    stream = [pngs[i % len(pngs)] for i in range(images)]
    with ThreadPoolExecutor(cores) as pool:
        recognizer.predict_normalized(list(pool.map(normalize, stream[:batch_size])))  # warm-up
        started = time.perf_counter()
        for start in range(0, len(stream), batch_size):
            arrays = list(pool.map(normalize, stream[start : start + batch_size]))
            recognizer.predict_normalized(arrays, batch_size=batch_size)
        return len(stream) / (time.perf_counter() - started)


def lstm_flops(recognizer: Recognizer, steps: int) -> int:
    """FLOPs of the BiLSTM for a sequence of ``steps`` (the flop counter does not see fused LSTM kernels)."""
    rnn = recognizer.model.rnn
    total, size_in = 0, rnn.input_size
    for _ in range(rnn.num_layers):
        total += 2 * steps * 2 * 4 * rnn.hidden_size * (size_in + rnn.hidden_size)
        size_in = 2 * rnn.hidden_size
    return total


def main() -> None:
    """Run the benchmark and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=CHAMPION_URI)
    parser.add_argument("--data", type=Path, default=Path("datasets/usps_benchmark/test"))
    parser.add_argument("--images", type=int, default=512)
    args = parser.parse_args()
    path, version = fetch_model_file(args.model)
    recognizer = Recognizer.from_file(path, model_version=version)
    samples = read_folder(args.data)[: args.images]
    pngs = [s.path.read_bytes() for s in samples]
    started = time.perf_counter()
    arrays = [normalize(png) for png in pngs]
    preprocess_ms = 1000 * (time.perf_counter() - started) / len(arrays)

    torch.set_num_threads(1)
    time_batches(recognizer, arrays, 1, 10)
    single = time_batches(recognizer, arrays, 1, 200)
    torch.set_num_threads(2)
    time_batches(recognizer, arrays, 64, 2)
    batched = time_batches(recognizer, arrays, 64, 20)
    end_to_end = end_to_end_images_per_s(recognizer, pngs)

    batch, _ = collate(arrays[:1])
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        recognizer.model(batch)
    result = {
        "model": args.model,
        "model_version": version,
        "data": str(args.data),
        "mean_width": round(statistics.mean(a.shape[1] for a in arrays), 1),
        "preprocess_ms_per_image": round(preprocess_ms, 3),
        "batch1_ms_per_image_1_thread_p50": round(1000 * statistics.median(single), 3),
        "batch1_ms_per_image_1_thread_p95": round(1000 * sorted(single)[int(0.95 * len(single))], 3),
        "batch64_images_per_s_2_threads": round(64 * len(batched) / sum(batched), 1),
        "end_to_end_images_per_s": round(end_to_end, 1),
        "cores": os.cpu_count(),
        "parameters": sum(p.numel() for p in recognizer.model.parameters()),
        "flops_per_image_first_sample": counter.get_total_flops() + lstm_flops(recognizer, batch.shape[-1] // 4),
        "width_of_first_sample": int(batch.shape[-1]),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
