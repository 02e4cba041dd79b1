"""Event ingestion speed into SQLite and PostgreSQL: batched versus one transaction per event.

Both modes push the same decoded event stream (mostly step events, as an engine sends
them, plus evals, weight histograms and checkpoints) through the worker's RunIngestor;
the baseline flushes after every event (batch_size=1), the batched mode uses the
worker's batch size. The ratio is batched events/s over baseline events/s, measured in
the same run on the same database. protocol.decode, the worker's other per-line cost,
is timed alone.

    python benchmarks/ingest.py [--events 20000] [--baseline-events 2000] [--pg URL] [--json]

PostgreSQL is measured when --pg or LLMD4REC_TEST_PG_URL gives an admin URL (a temporary
database is created and dropped). Writes benchmarks/out/ingest.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from engine.config import config_from_dict
from engine.protocol import Checkpoint, Eval, Event, Step, Weights, decode, encode
from llmd4rec_tui.queue.enqueue import PendingRun, add_runs
from llmd4rec_tui.store.db import open_store
from llmd4rec_tui.store.ingest import RunIngestor

OUT = Path(__file__).resolve().parent / "out"


def event_lines(count: int) -> list[str]:
    """An engine-like stream: steps, an eval and a histogram every 500, a checkpoint every 5,000."""
    lines = []
    for index in range(count):
        if index % 5000 == 4999:
            event: Event = Checkpoint(round=0, model="crm", path=f"/runs/1/phase-{index}.pt")
        elif index % 500 == 250:
            event = Eval(round=0, model="crm", split="valid", metrics={"ndcg@10": 0.1, "hr@10": 0.2})
        elif index % 500 == 499:
            edges, counts = [i / 20 for i in range(21)], [1] * 20
            event = Weights(round=0, model="crm", epoch=index, name="w2", edges=edges, counts=counts, mean=1, std=0)
        else:
            losses = {"ce": 1.0 / (index + 1), "kl": 0.5, "wkl": 0.25, "total": 1.75}
            event = Step(round=0, model="crm", epoch=0, step=index, losses=losses, lr=1e-3, progress=0.5)
        lines.append(encode(event))
    return lines


def decode_rate(lines: list[str]) -> float:
    """Lines per second through protocol.decode alone (the worker's other per-line cost)."""
    started = time.perf_counter()
    for line in lines:
        decode(line)
    return len(lines) / (time.perf_counter() - started)


def measure(url: str, lines: list[str], batch_size: int) -> float:
    """Events per second through RunIngestor into a fresh run (lines decoded beforehand)."""
    events = [decode(line) for line in lines]
    store = open_store(url)
    try:
        pending = [PendingRun(Path("bench.toml"), config_from_dict({"run": {"seed": batch_size}}), "")]
        (run_id,) = add_runs(store, pending, force=True).added
        ingestor = RunIngestor(store, run_id, attempt=1, batch_size=batch_size)
        started = time.perf_counter()
        for event in events:
            ingestor.add(event)
        ingestor.flush()
        return len(events) / (time.perf_counter() - started)
    finally:
        store.close()


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg

    conninfo = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"llmd4rec_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000, help="events in the batched measurement")
    parser.add_argument("--baseline-events", type=int, default=2_000, help="events in the per-event baseline")
    parser.add_argument("--pg", default=os.environ.get("LLMD4REC_TEST_PG_URL"), help="PostgreSQL admin URL")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        for backend, url in backends:
            results.append(run_backend(backend, url, args.events, args.baseline_events))
    if args.pg:
        with postgres_database(args.pg) as url:
            results.append(run_backend("postgresql", url, args.events, args.baseline_events))

    decoded = decode_rate(event_lines(args.events))
    OUT.mkdir(exist_ok=True)
    results.append({"backend": "protocol.decode alone", "lines_per_s": decoded})
    (OUT / "ingest.json").write_text(json.dumps(results, indent=2))
    table = ["| back end | batched events/s | per-event events/s | ratio |", "|---|---:|---:|---:|"]
    table += [
        f"| {r['backend']} | {r['batched']:,.0f} | {r['per_event']:,.0f} | {r['ratio']:.1f}x |"
        for r in results
        if "ratio" in r
    ]
    table.append(f"\nprotocol.decode alone: {decoded:,.0f} lines/s")
    (OUT / "ingest.md").write_text("\n".join(table) + "\n")
    print(json.dumps(results, indent=2) if args.json else "\n".join(table))
    return 0


def run_backend(backend: str, url: str, events: int, baseline_events: int) -> dict[str, object]:
    batched = measure(url, event_lines(events), batch_size=500)
    per_event = measure(url, event_lines(baseline_events), batch_size=1)
    return {
        "backend": backend,
        "events": events,
        "baseline_events": baseline_events,
        "batched": batched,
        "per_event": per_event,
        "ratio": batched / per_event,
    }


if __name__ == "__main__":
    raise SystemExit(main())
