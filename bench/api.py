"""Benchmark of the HTTP API's repayments: throughput and latency of ``POST /accounts/{id}/repayments``
against a real ``overdue serve`` process (DESIGN §7: ≥ 1,000 repayments/s with p99 ≤ 50 ms on PostgreSQL,
2 cores).

Run from the repository root (numbers are recorded in docs/PERFORMANCE.md; no test asserts them):

    .venv/bin/python bench/api.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench --json
    .venv/bin/python bench/api.py --accounts 500 --requests 3000 --concurrency 16 --json   # a SQLite file

Set-up (not timed): the database is migrated and emptied of accounts only if it has none (give a fresh
one), ``--accounts`` accounts are opened with a purchase each through the services, and one supervisor user
is added. Then ``overdue serve`` starts as its own process, and ``--concurrency`` clients in this process
(asyncio, one HTTP/1.1 keep-alive connection each) post ``--requests`` repayments of 1.00, each with its own
``Idempotency-Key``, spreading them over the accounts so that concurrent requests touch different
accounts. A warm-up of ``--warmup`` requests comes first and is not counted.

It prints requests, seconds, repayments per second, latency percentiles (ms, as the client sees them:
queueing included), answers by status, the server's CPU seconds and peak RSS (Linux ``/proc``), and the
machine (cores, load average before and after). The clients share the machine's cores with the server:
on 2 cores they take a part of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from overdue.api import users
from overdue.services import accounts
from overdue.store.db import make_engine, upgrade

OPENED = date(2026, 1, 5)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", help="database URL (default: a new SQLite file in a temporary folder)")
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    return parser.parse_args(argv)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mib(pid: int) -> float:
    """The peak resident memory of process ``pid`` (``VmHWM`` in ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _prepare(url: str, count: int) -> str:
    """Open ``count`` accounts with 5,000.00 of purchases each; returns a supervisor's token."""
    engine = make_engine(url)
    upgrade(engine)
    for n in range(count):
        account_id = f"B{n:06d}"
        accounts.open_account(engine, account_id, OPENED, 1_000_000)
        accounts.purchase(engine, account_id, 500_000, on=OPENED)
    token = users.add_user(engine, f"bench-{uuid.uuid4().hex[:8]}", "supervisor").token
    engine.dispose()
    return token


async def _fire(
    base: str, token: str, count: int, accounts_n: int, concurrency: int, offset: int
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(offset + n)
    headers = {"Authorization": f"Bearer {token}"}

    async def worker() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as client:
            while True:
                try:
                    n = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                account_id = f"B{n % accounts_n:06d}"
                began = time.perf_counter()
                response = await client.post(
                    f"/accounts/{account_id}/repayments",
                    json={"amount": "1.00"},
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                latencies.append(time.perf_counter() - began)
                statuses[response.status_code] += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2)

    return {
        "requests": count,
        "seconds": round(seconds, 3),
        "repayments_per_s": round(statuses[201] / seconds, 1),
        "latency_ms": {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "max": pct(1.0)},
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.accounts * 5000 < args.requests + args.warmup:
        raise SystemExit("each account takes at most 5,000 repayments of 1.00: raise --accounts")
    folder = tempfile.TemporaryDirectory(prefix="overdue-bench-api-")
    url = args.db or f"sqlite:///{folder.name}/bench.db"
    load_before = os.getloadavg()
    token = _prepare(url, args.accounts)
    port = _free_port()
    command = [str(Path(sys.executable).parent / "overdue"), "--db", url, "serve", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("overdue serve did not start")
        asyncio.run(_fire(base, token, args.warmup, args.accounts, args.concurrency, 0))
        cpu_before = _cpu_seconds(server.pid)
        result = asyncio.run(_fire(base, token, args.requests, args.accounts, args.concurrency, args.warmup))
        server_cpu = _cpu_seconds(server.pid) - cpu_before
        peak_rss = _peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        folder.cleanup()
    out = {
        "database": url.split(":", 1)[0].split("+", 1)[0],
        "accounts": args.accounts,
        "concurrency": args.concurrency,
        **result,
        "server_cpu_seconds": round(server_cpu, 2),
        "server_peak_rss_mib": peak_rss,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
        },
    }
    print(json.dumps(out, indent=2) if args.json else out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
