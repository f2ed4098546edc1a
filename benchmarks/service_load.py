"""Load benchmark of the real service over HTTP, against the model in-process in the same run; prints JSON.

    python benchmarks/service_load.py                        # SQLite log (the default setup)
    python benchmarks/service_load.py --backend postgresql
    python benchmarks/service_load.py --outage               # PostgreSQL stopped and restarted under load
    python benchmarks/service_load.py --keep-images          # every image kept, as ./scripts/run.sh does
    python benchmarks/service_load.py --url http://host:3000 --admin admin:PASSWORD   # an existing server

By default everything is throw-away and real: an MLflow registry holding the released model
(``--model``) as champion, the BentoML model store it is imported into, ``bentoml serve``, and a
PostgreSQL cluster when the backend is PostgreSQL. After a 3-second warm-up it measures
``--rounds`` rounds, each of them:

- the floor for one client's latency, in this process: preprocessing plus the batch-1 model time
  of one image on one thread, the batch-1 figure of ``benchmarks/inference.py`` and how the
  service reads a lone request (the same on every core is reported beside it);
- ``one_connection``, right after: ``POST /predict`` driven by ``wrk`` (Debian package, installed
  by ``scripts/setup.sh``; it costs far less CPU than a Python client) with one connection:
  requests/s, latency percentiles and errors;
- the same model file on the same images in this process: end-to-end images/s (PNG bytes ->
  preprocessing -> model in batches of 64 -> text, all cores) and the CPU time it spends per image
  (``in_process`` holds these figures and the floor's);
- ``concurrent``, right after: the same with ``--connections``, and the CPU time the whole service
  (web worker and inference processes) spends per request (``cpu_ms_per_request``, comparable
  with the in-process CPU time per image);
- ``ratio``: that round's HTTP requests/s over its in-process images/s, its one-client p50 over its
  floor, and the service's CPU per request over the in-process CPU per image.

A shared machine's speed drifts by a third within minutes, so each ratio compares measurements
taken back to back, and the top-level ``ratio`` gives the median of the rounds with the lowest
and highest. Then ``livez_requests_per_s`` (``GET /livez`` with as many connections: the HTTP
stack alone, the ceiling no prediction route can pass) and ``log_rows``: the prediction log holds
exactly one row per request sent.

The outage run (a Python client, since it counts every answer) stops PostgreSQL during load and
starts it again, then checks for server errors and lost rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psutil
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.inference import end_to_end_images_per_s
from models.preprocess import normalize
from models.recognizer import Recognizer
from pipelines.common.labelled_folder import read_folder
from tests.drawing import draw_number
from tests.service.harness import (
    ADMIN,
    PostgresServer,
    ServiceProcess,
    login,
    png_bytes,
    postgres_bindir,
    prepare_model_store,
    register,
    service_env,
)

RELEASE_MODEL = Path("models/release/model.pt")
END_TO_END_IMAGES = 1024
END_TO_END_BATCH = 64
DEFAULT_IMAGES = Path("datasets/strokes/test")
DRAWN_NUMBERS = ("7", "42", "3.14", "2026", "0.5", "918273", "60.25", "11")
BOUNDARY = "digitify-load-benchmark"
WRK_SCRIPT = """
local paths = {%(paths)s}
local headers = {["Content-Type"] = "multipart/form-data; boundary=%(boundary)s",
                 ["Authorization"] = "Bearer %(token)s"}
local bodies = {}
for i, path in ipairs(paths) do
  local file = assert(io.open(path, "rb")); bodies[i] = file:read("*a"); file:close()
end
local index = 0
sent = 0
request = function()
  index = index %% #bodies + 1
  sent = sent + 1
  return wrk.format("POST", "/predict", headers, bodies[index])
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  -- wrk calls request() once on the first thread's state before the run, to check it: not sent
  local total_sent = -1
  for _, thread in ipairs(threads) do total_sent = total_sent + thread:get("sent") end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"completed": %%d, "sent": %%d, "seconds": %%.3f, "non_2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_ms": %%.2f, "p95_ms": %%.2f, "p99_ms": %%.2f, "mean_ms": %%.2f}\\n',
    summary.requests, total_sent, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, latency.mean / 1e3))
end
"""


def load_images(folder: Path, count: int) -> list[bytes]:
    """PNG bytes of the first ``count`` images of a labelled folder, or drawn numbers without one."""
    if (folder / "labels.csv").is_file():
        return [sample.path.read_bytes() for sample in read_folder(folder)[:count]]
    return [png_bytes(draw_number(text)) for text in DRAWN_NUMBERS]


def multipart_body(png: bytes) -> bytes:
    """One ``image`` field as a multipart/form-data body."""
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=image; filename=n.png\r\nContent-Type: image/png\r\n\r\n"
    ).encode()
    return head + png + f"\r\n--{BOUNDARY}--\r\n".encode()


def one_image_floor(recognizer: Recognizer, images: list[bytes]) -> dict:
    """The floor for one client's latency: median preprocessing plus batch-1 model time of one image, on one thread.

    One thread, as ``benchmarks/inference.py`` reports batch 1 and as the service reads a lone
    request; the same on every core is reported beside it (``one_image_floor_all_cores_ms``).
    """
    preprocess_ms, batch1_ms = one_image_ms(recognizer, images, 1)
    all_cores = sum(one_image_ms(recognizer, images, os.cpu_count() or 1))
    return {
        "preprocess_ms_p50": round(preprocess_ms, 3),
        "batch1_model_ms_p50": round(batch1_ms, 3),
        "one_image_floor_ms": round(preprocess_ms + batch1_ms, 3),
        "one_image_floor_all_cores_ms": round(all_cores, 3),
    }


def end_to_end(recognizer: Recognizer, images: list[bytes]) -> dict:
    """What the model does on these images without HTTP, all cores: end-to-end images/s and its CPU per image."""
    cpu_started = time.process_time()
    rate = end_to_end_images_per_s(recognizer, images, images=END_TO_END_IMAGES, batch_size=END_TO_END_BATCH)
    cpu_ms_per_image = 1000 * (time.process_time() - cpu_started) / (END_TO_END_IMAGES + END_TO_END_BATCH)  # + warm-up
    return {"end_to_end_images_per_s": round(rate, 1), "cpu_ms_per_image": round(cpu_ms_per_image, 3)}


def one_image_ms(recognizer: Recognizer, images: list[bytes], threads: int) -> tuple[float, float]:
    """Median milliseconds to preprocess one image and to read it alone (batch 1) on ``threads`` threads."""
    torch.set_num_threads(threads)
    preprocess, batch1 = [], []
    for index in range(200):
        png = images[index % len(images)]
        started = time.perf_counter()
        array = normalize(png)
        preprocess.append(time.perf_counter() - started)
        started = time.perf_counter()
        recognizer.predict_normalized([array])
        batch1.append(time.perf_counter() - started)
    return 1000 * statistics.median(preprocess[20:]), 1000 * statistics.median(batch1[20:])


def run_wrk(url: str, token: str, bodies: list[Path], connections: int, seconds: int) -> dict:
    """Drive ``POST /predict`` with wrk; return its counts and latency percentiles (ms)."""
    script = bodies[0].parent / "predict.lua"
    paths = ", ".join(json.dumps(str(path)) for path in bodies)
    script.write_text(WRK_SCRIPT % {"paths": paths, "boundary": BOUNDARY, "token": token})
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    result = json.loads(line.removeprefix("WRK_JSON "))
    result["requests_per_s"] = round(result["completed"] / result["seconds"], 1)
    result["errors"] = result["non_2xx"] + result["socket_errors"]
    result["connections"] = connections
    return result


def run_wrk_probe(url: str, connections: int, seconds: int) -> float:
    """Requests/s of ``GET /livez`` with wrk: what the HTTP stack alone (all middleware, no work) answers."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", f"{url}/livez"]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120).stdout
    line = next(line for line in output.splitlines() if line.startswith("Requests/sec:"))
    return round(float(line.split()[1]), 1)


def logged_rows(url: str, admin_token: str, username: str, expected: int, timeout: float = 90) -> int:
    """Wait until the log holds ``expected`` rows of ``username`` (or time runs out); return the count."""
    deadline = time.monotonic() + timeout
    total = -1
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30) as admin:
        while time.monotonic() < deadline:
            response = admin.get("/admin/logs", params={"user": username, "page_size": 1})
            if response.status_code == 200:
                total = response.json()["total"]
                if total >= expected:
                    time.sleep(1.0)  # rows past the expected count would show a double write
                    return admin.get("/admin/logs", params={"user": username, "page_size": 1}).json()["total"]
            time.sleep(0.5)
    return total


def fresh_user(url: str) -> tuple[str, str]:
    """Register a benchmark user; return its name and token."""
    username = f"bench-{uuid.uuid4().hex[:8]}"
    return username, register(url, username, f"password-{username}")


def service_cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds used so far by the server process and all its descendants (None for a server not started here)."""
    if pid is None:
        return None
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def measure(
    url: str, admin_token: str, images: list[bytes], args: argparse.Namespace, pid: int | None, model: Path
) -> dict:
    """``--rounds`` rounds of: the one-image floor, one wrk connection, the model in-process, ``--connections``."""
    username, token = fresh_user(url)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="digitify-wrk-") as folder:
        bodies = []
        for index, png in enumerate(images):
            bodies.append(Path(folder) / f"body-{index}.bin")
            bodies[-1].write_bytes(multipart_body(png))
        recognizer = Recognizer.from_file(model)
        sent = run_wrk(url, token, bodies, args.connections, 3)["sent"]  # warm-up
        for _ in range(args.rounds):
            reference = one_image_floor(recognizer, images)
            single = run_wrk(url, token, bodies, 1, args.seconds)
            reference |= end_to_end(recognizer, images)
            cpu_before = service_cpu_seconds(pid)
            concurrent = run_wrk(url, token, bodies, args.connections, args.seconds)
            cpu_after = service_cpu_seconds(pid)
            if cpu_before is not None and cpu_after is not None:
                cpu_ms = 1000 * (cpu_after - cpu_before) / max(concurrent["completed"], 1)
                concurrent["cpu_ms_per_request"] = round(cpu_ms, 3)
            sent += concurrent["sent"] + single["sent"]
            rounds.append(
                {
                    "in_process": reference,
                    "concurrent": concurrent,
                    "one_connection": single,
                    "ratio": round_ratios(reference, concurrent, single),
                }
            )
    probe_rps = run_wrk_probe(url, args.connections, max(5, args.seconds // 2))
    rows = logged_rows(url, admin_token, username, sent)
    return {
        "rounds": rounds,
        "livez_requests_per_s": probe_rps,
        "errors": sum(r["concurrent"]["errors"] + r["one_connection"]["errors"] for r in rounds),
        "log_rows": {"requests_sent": sent, "rows": rows, "rows_equal_requests": rows == sent},
        "ratio": summary(rounds),
    }


def round_ratios(reference: dict, concurrent: dict, single: dict) -> dict:
    """One round's HTTP figures over the in-process ones measured just before each of them."""
    result = {
        "http_rps_over_in_process_images_per_s": round(
            concurrent["requests_per_s"] / reference["end_to_end_images_per_s"], 3
        ),
        "one_client_p50_over_floor": round(single["p50_ms"] / reference["one_image_floor_ms"], 2),
        "one_client_p50_over_all_cores_floor": round(single["p50_ms"] / reference["one_image_floor_all_cores_ms"], 2),
    }
    cpu = concurrent.get("cpu_ms_per_request")
    if cpu is not None:
        result["service_cpu_per_request_over_in_process_cpu_per_image"] = round(cpu / reference["cpu_ms_per_image"], 2)
    return result


def summary(rounds: list[dict]) -> dict:
    """The median of each round's ratio, with the lowest and the highest."""
    result: dict = {"rounds": len(rounds)}
    for key in rounds[0]["ratio"]:
        values = [r["ratio"][key] for r in rounds]
        result[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    return result


class Load:
    """Sends prediction requests from Python and keeps score of every answer (the outage run)."""

    def __init__(self, url: str, token: str, images: list[bytes]) -> None:
        self.url = url
        self.token = token
        self.images = images
        self.statuses: dict[int, int] = {}
        self.failures = 0
        self.sent = 0

    async def one(self, client: httpx.AsyncClient, index: int) -> None:
        """Send one upload and record its status."""
        image = self.images[index % len(self.images)]
        self.sent += 1
        try:
            response = await client.post("/predict", files={"image": ("n.png", image, "image/png")})
        except httpx.HTTPError:
            self.failures += 1
            return
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1

    async def run(self, requests: int, concurrency: int) -> float:
        """Send ``requests`` requests from ``concurrency`` clients; return the wall time in seconds."""
        counter = iter(range(requests))
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=120, limits=limits) as client:

            async def worker() -> None:
                for index in counter:
                    await self.one(client, index)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started


def outage(url: str, admin_token: str, images: list[bytes], postgres: PostgresServer, args: argparse.Namespace) -> dict:
    """Load while PostgreSQL is stopped and restarted; count server errors and lost rows."""
    username, token = fresh_user(url)
    load = Load(url, token, images)
    events: dict[str, float] = {}

    async def staged() -> float:
        async def chaos() -> None:
            await asyncio.sleep(args.outage_after)
            events["stopped_at_s"] = time.perf_counter() - started
            await asyncio.to_thread(postgres.stop)
            await asyncio.sleep(args.outage_seconds)
            await asyncio.to_thread(postgres.start)
            events["restarted_at_s"] = time.perf_counter() - started

        started = time.perf_counter()
        task = asyncio.create_task(chaos())
        seconds = await load.run(args.outage_requests, args.connections)
        await task
        return seconds

    seconds = asyncio.run(staged())
    rows = logged_rows(url, admin_token, username, load.sent)
    return {
        "requests": load.sent,
        "seconds": round(seconds, 2),
        "server_errors": sum(n for status, n in load.statuses.items() if status >= 500),
        "transport_failures": load.failures,
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "clients": args.connections,
        "outage": {key: round(value, 2) for key, value in events.items()},
        "log_rows": rows,
        "lost_rows": load.sent - rows,
    }


def main(argv: list[str] | None = None) -> None:
    """Start the parts (or use ``--url``), run the measurements, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--model", type=Path, default=RELEASE_MODEL, help="model file served and measured in-process")
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES, help="labelled folder of request images")
    parser.add_argument("--image-count", type=int, default=64)
    parser.add_argument("--url", help="benchmark a running server (serving --model) instead of starting one")
    parser.add_argument("--admin", help="USER:PASSWORD of an admin of --url")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of in-process, then HTTP measurements")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--keep-images", action="store_true", help="keep every image, as ./scripts/run.sh does")
    parser.add_argument("--outage", action="store_true", help="also run load with PostgreSQL stopped and restarted")
    parser.add_argument("--outage-requests", type=int, default=1200)
    parser.add_argument("--outage-after", type=float, default=2.0)
    parser.add_argument("--outage-seconds", type=float, default=4.0)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.seconds < 1:
        parser.error("--rounds and --seconds must be at least 1")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: `bash scripts/setup.sh` installs it (Debian package wrk)")
    images = load_images(args.images, args.image_count)
    report: dict = {
        "model": str(args.model),
        "images": len(images),
        "mean_image_bytes": round(statistics.mean(len(png) for png in images)),
        "cores": os.cpu_count(),
    }

    if args.url:
        user, _, password = (args.admin or ":").partition(":")
        report |= measure(args.url, login(args.url, user, password), images, args, None, args.model)
        print(json.dumps(report, indent=2))
        return

    with tempfile.TemporaryDirectory(prefix="digitify-bench-") as scratch:
        work = Path(scratch)
        postgres = None
        if args.backend == "postgresql" or args.outage:
            bindir = postgres_bindir()
            if bindir is None:
                raise SystemExit("PostgreSQL binaries not found (scripts/setup.sh installs them)")
            postgres = PostgresServer(bindir)
            postgres.init()
        try:
            database_url = postgres.url() if args.backend == "postgresql" else f"sqlite:///{work / 'log.db'}"
            env = service_env(database_url, work, prepare_model_store(work / "models", args.model))
            env["DIGITIFY_USER_CACHE_SECONDS"] = "10"
            for name in ("DIGITIFY_TORCH_THREADS", "DIGITIFY_INFERENCE_PROCESSES"):
                env.pop(name, None)  # the service's defaults, not the tests' settings
            env["DIGITIFY_KEEP_IMAGES"] = "true" if args.keep_images else "false"
            server = ServiceProcess(env, cwd=work).start()
            try:
                admin_token = login(server.url, *ADMIN)
                report["backend"] = args.backend
                report |= measure(server.url, admin_token, images, args, server.process.pid, args.model)
                if args.outage:
                    if postgres is None or args.backend != "postgresql":
                        raise SystemExit("--outage needs --backend postgresql")
                    report["outage_run"] = outage(server.url, admin_token, images, postgres, args)
            finally:
                server.stop()
        finally:
            if postgres is not None:
                postgres.remove()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
