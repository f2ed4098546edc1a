"""Throughput of one 1,000-image async task against ``/predict_batch`` on the same images and service; prints JSON.

    python benchmarks/async_throughput.py                   # throw-away Redis, service and Celery worker
    python benchmarks/async_throughput.py --rounds 3 --connections 2
    python benchmarks/async_throughput.py --url http://host:3000 --admin admin:PASSWORD   # a running stack

By default everything is throw-away and real: a Redis, an MLflow registry holding the released
model (``--model``) as champion, the BentoML model store it is imported into, ``bentoml serve``
(SQLite log, the service's own defaults for threads and inference processes) and one Celery
worker (``scripts/worker.sh``) beside it. The images are the first ``--image-count`` of
``--images`` (drawn numbers without that folder), repeated up to ``--task-images``.

Each round, back to back on the same machine (a shared machine's speed drifts within minutes):

- ``batch``: the same images through ``POST /predict_batch`` in requests of the service's
  largest batch (``DIGITIFY_MAX_BATCH_IMAGES``), over ``--connections`` connections; images/s
  from the first request sent to the last answer;
- ``task``: one ``POST /predict_async/submit`` with all of them, then ``/predict_async/status``
  polled every 50 ms until it is done; images/s from the submission sent to ``done`` seen
  (``submit_s`` is the upload alone), and the result's count checked.

The top-level ``ratio`` is the median over rounds of task images/s over batch images/s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.service_load import DEFAULT_IMAGES, RELEASE_MODEL, load_images
from tests.service.harness import (
    ADMIN,
    RedisServer,
    ServiceProcess,
    WorkerProcess,
    login,
    prepare_model_store,
    service_env,
)

BATCH_IMAGES = 64  # the service's default DIGITIFY_MAX_BATCH_IMAGES
POLL_S = 0.05
TASK_TIMEOUT_S = 1800


def as_files(images: list[bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The repeated multipart field ``images``."""
    return [("images", (f"{index}.png", data, "image/png")) for index, data in enumerate(images)]


def through_batches(url: str, token: str, images: list[bytes], batch: int, connections: int) -> dict:
    """Read ``images`` through ``/predict_batch`` in requests of ``batch``, over ``connections`` connections."""
    chunks = [images[start : start + batch] for start in range(0, len(images), batch)]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(
        base_url=url, headers=headers, timeout=600, limits=httpx.Limits(max_connections=connections)
    ) as client:

        def send(chunk: list[bytes]) -> int:
            answer = client.post("/predict_batch", files=as_files(chunk))
            answer.raise_for_status()
            return answer.json()["count"]

        started = time.perf_counter()
        with ThreadPoolExecutor(connections) as pool:
            counted = sum(pool.map(send, chunks))
        seconds = time.perf_counter() - started
    if counted != len(images):
        raise RuntimeError(f"/predict_batch answered {counted} results for {len(images)} images")
    return {
        "images": counted,
        "requests": len(chunks),
        "seconds": round(seconds, 3),
        "images_per_s": round(counted / seconds, 1),
    }


def through_task(url: str, token: str, images: list[bytes]) -> dict:
    """Read ``images`` as one async task; time it from submission to ``done``."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600) as client:
        started = time.perf_counter()
        submitted = client.post("/predict_async/submit", files=as_files(images))
        submitted.raise_for_status()
        submit_s = time.perf_counter() - started
        task_id = submitted.json()["task_id"]
        while True:
            status = client.get("/predict_async/status", params={"task_id": task_id}).json()
            if status["status"] in ("done", "failed", "canceled"):
                break
            if time.perf_counter() - started > TASK_TIMEOUT_S:
                raise RuntimeError(f"task {task_id} not done after {TASK_TIMEOUT_S} s: {status}")
            time.sleep(POLL_S)
        seconds = time.perf_counter() - started
        if status["status"] != "done":
            raise RuntimeError(f"task {task_id} ended {status['status']}: {status['error']}")
        count = client.get("/predict_async/get", params={"task_id": task_id}).json()["count"]
    if count != len(images):
        raise RuntimeError(f"the task answered {count} results for {len(images)} images")
    return {
        "images": count,
        "submit_s": round(submit_s, 3),
        "seconds": round(seconds, 3),
        "images_per_s": round(count / seconds, 1),
    }


def measure(url: str, token: str, images: list[bytes], args: argparse.Namespace) -> dict:
    """Alternate the two ways ``--rounds`` times; report each round and the median ratio."""
    through_batches(url, token, images[:BATCH_IMAGES], args.batch_images, 1)  # warm-up
    rounds = []
    for _ in range(args.rounds):
        batch = through_batches(url, token, images, args.batch_images, args.connections)
        task = through_task(url, token, images)
        rounds.append({"batch": batch, "task": task, "ratio": round(task["images_per_s"] / batch["images_per_s"], 3)})
    return {"rounds": rounds, "ratio": statistics.median(item["ratio"] for item in rounds)}


def main(argv: list[str] | None = None) -> None:
    """Start the parts (or use ``--url``), measure, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=RELEASE_MODEL, help="model file served")
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES, help="labelled folder of request images")
    parser.add_argument("--image-count", type=int, default=64, help="distinct images, repeated up to --task-images")
    parser.add_argument("--task-images", type=int, default=1000)
    parser.add_argument("--batch-images", type=int, default=BATCH_IMAGES, help="images per /predict_batch request")
    parser.add_argument("--connections", type=int, default=1, help="concurrent /predict_batch requests")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--url", help="measure a running service (its worker running) instead of starting them")
    parser.add_argument("--admin", help="USER:PASSWORD of an admin of --url")
    args = parser.parse_args(argv)
    distinct = load_images(args.images, args.image_count)
    images = [distinct[index % len(distinct)] for index in range(args.task_images)]
    report: dict = {
        "model": str(args.model),
        "task_images": len(images),
        "distinct_images": len(distinct),
        "batch_images": args.batch_images,
        "connections": args.connections,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    if args.url:
        user, _, password = (args.admin or ":").partition(":")
        report |= measure(args.url, login(args.url, user, password), images, args)
        print(json.dumps(report, indent=2))
        return

    with tempfile.TemporaryDirectory(prefix="digitify-async-bench-") as scratch:
        work = Path(scratch)
        redis_server = RedisServer().start()
        env = {
            **service_env(f"sqlite:///{work / 'log.db'}", work, prepare_model_store(work / "models", args.model)),
            "REDIS_URL": redis_server.url,
            "DIGITIFY_KEEP_IMAGES": "false",
            "DIGITIFY_MAX_TASK_IMAGES": str(max(1000, len(images))),
        }
        for name in ("DIGITIFY_TORCH_THREADS", "DIGITIFY_INFERENCE_PROCESSES", "DIGITIFY_MAX_BATCH_IMAGES"):
            env.pop(name, None)  # the service's defaults, not the tests' settings
        server = ServiceProcess(env, cwd=work)
        worker = WorkerProcess(env, cwd=work)
        try:
            server.start(timeout=300)
            worker.start(timeout=300)
            report |= measure(server.url, login(server.url, *ADMIN), images, args)
        finally:
            worker.stop()
            server.stop()
            redis_server.remove()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
