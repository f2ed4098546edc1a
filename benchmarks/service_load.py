"""Load benchmark of the real service over HTTP; prints one JSON object.

    python benchmarks/service_load.py                       # PostgreSQL, latency + 16 clients
    python benchmarks/service_load.py --outage              # ... and a load run with PostgreSQL restarted
    python benchmarks/service_load.py --backend sqlite
    python benchmarks/service_load.py --url http://host:3000 --admin admin:PASSWORD   # an existing server

By default everything is throw-away and real: a PostgreSQL cluster, an MLflow registry holding
an (untrained) champion, the BentoML model store it is imported into, and ``bentoml serve``.
It measures single-request latency (one client), throughput with ``--concurrency`` clients,
counts errors, and checks that the prediction log holds exactly one row per request. The
outage run stops PostgreSQL during load and starts it again, then checks for server errors
and lost rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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

NUMBERS = ("7", "42", "3.14", "2026", "0.5", "918273", "60.25", "11")


def percentile(values: list[float], percent: float) -> float | None:
    """Nearest-rank percentile (ms, rounded), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * percent // 100))
    return round(ordered[int(rank) - 1], 2)


class Load:
    """Sends prediction requests and keeps score."""

    def __init__(self, url: str, token: str, images: list[bytes]) -> None:
        self.url = url
        self.token = token
        self.images = images
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.failures = 0
        self.sent = 0

    async def one(self, client: httpx.AsyncClient, index: int) -> None:
        """Send one upload and record its latency and status."""
        image = self.images[index % len(self.images)]
        started = time.perf_counter()
        self.sent += 1
        try:
            response = await client.post("/predict", files={"image": ("n.png", image, "image/png")})
        except httpx.HTTPError:
            self.failures += 1
            return
        self.latencies.append((time.perf_counter() - started) * 1000)
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

    def summary(self, seconds: float) -> dict:
        """Latency percentiles, throughput and error counts."""
        ok = self.statuses.get(200, 0)
        return {
            "requests": self.sent,
            "seconds": round(seconds, 2),
            "requests_per_s": round(self.sent / seconds, 1) if seconds else None,
            "p50_ms": percentile(self.latencies, 50),
            "p95_ms": percentile(self.latencies, 95),
            "p99_ms": percentile(self.latencies, 99),
            "mean_ms": round(statistics.fmean(self.latencies), 2) if self.latencies else None,
            "ok": ok,
            "errors": self.sent - ok,
            "server_errors": sum(n for status, n in self.statuses.items() if status >= 500),
            "transport_failures": self.failures,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


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
                    return total
            time.sleep(0.5)
    return total


def fresh_user(url: str) -> tuple[str, str]:
    """Register a benchmark user; return its name and token."""
    username = f"bench-{uuid.uuid4().hex[:8]}"
    return username, register(url, username, f"password-{username}")


def measure(url: str, admin_token: str, images: list[bytes], args: argparse.Namespace) -> dict:
    """Latency with one client, then throughput with many; rows checked after each."""
    results = {}
    username, token = fresh_user(url)
    asyncio.run(Load(url, token, images).run(20, 1))  # warm-up (also logged)
    single = Load(url, token, images)
    results["single_client"] = single.summary(asyncio.run(single.run(args.single_requests, 1)))
    concurrent = Load(url, token, images)
    results["concurrent"] = concurrent.summary(asyncio.run(concurrent.run(args.requests, args.concurrency)))
    results["concurrent"]["clients"] = args.concurrency
    sent = 20 + single.sent + concurrent.sent
    rows = logged_rows(url, admin_token, username, sent)
    results["log_rows"] = {"requests": sent, "rows": rows, "rows_equal_requests": rows == sent}
    return results


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
        seconds = await load.run(args.outage_requests, args.concurrency)
        await task
        return seconds

    summary = load.summary(asyncio.run(staged()))
    rows = logged_rows(url, admin_token, username, load.sent)
    return {
        **summary,
        "clients": args.concurrency,
        "outage": {key: round(value, 2) for key, value in events.items()},
        "log_rows": rows,
        "lost_rows": load.sent - rows,
    }


def main(argv: list[str] | None = None) -> None:
    """Start the parts (or use ``--url``), run the measurements, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--url", help="benchmark a running server instead of starting one (no outage run)")
    parser.add_argument("--admin", help="USER:PASSWORD of an admin of --url")
    parser.add_argument("--single-requests", type=int, default=200)
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--outage", action="store_true", help="also run load with PostgreSQL stopped and restarted")
    parser.add_argument("--outage-requests", type=int, default=1200)
    parser.add_argument("--outage-after", type=float, default=2.0)
    parser.add_argument("--outage-seconds", type=float, default=4.0)
    args = parser.parse_args(argv)
    images = [png_bytes(draw_number(text)) for text in NUMBERS]

    if args.url:
        user, _, password = (args.admin or ":").partition(":")
        print(json.dumps(measure(args.url, login(args.url, user, password), images, args), indent=2))
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
            env = service_env(database_url, work, prepare_model_store(work / "models"))
            env["DIGITIFY_USER_CACHE_SECONDS"] = "10"
            server = ServiceProcess(env, cwd=work).start()
            try:
                admin_token = login(server.url, *ADMIN)
                report = {"backend": args.backend, **measure(server.url, admin_token, images, args)}
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
