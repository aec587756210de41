"""Lab POST through the real API (gunicorn) against a bare DRF insert of the same row.

    .venv/bin/python bench/lab_post.py [--seconds 8] [--workers 3] [--history 400] [--profile]

Measures, in one run on a scratch PostgreSQL database:
- SQL statements per lab POST (in-process, django's CaptureQueriesContext, full middleware);
- the cost of a POST for a patient with `--history` earlier results vs a new patient (in-process);
- throughput and p95 at 1 and 8 clients, product vs `bench/urls.py`'s bare insert, on gunicorn;
- with `--profile`: where an in-process POST spends its time, next to the bare insert's.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import time

import common


def sql_per_post(client, patient_id: int, posts: int) -> list[int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    start = dt.datetime.combine(common.DAY1 + dt.timedelta(days=100), dt.time(6), tzinfo=dt.UTC)
    for number in range(posts):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                "/api/lab-results/", common.lab_body(patient_id, number, start=start), format="json"
            )
        assert response.status_code == 201, response.content
        counts.append(len(queries))
    return counts


def timed_posts(client, patient_id: int, posts: int, offset: int) -> list[float]:
    times = []
    for number in range(posts):
        body = common.lab_body(patient_id, offset + number)
        started = time.perf_counter()
        response = client.post("/api/lab-results/", body, format="json")
        times.append(time.perf_counter() - started)
        assert response.status_code == 201, response.content
    return times


def profile_posts(client, new_patient_id: int, long_patient_id: int, posts: int) -> None:
    """cProfile of `posts` in-process lab POSTs of a new patient, of the patient with a long
    history, and as many bare inserts (same bodies' shape)."""
    for label, path, patient_id, offset in (
        ("lab POST, new patient", "/api/lab-results/", new_patient_id, 5000),
        ("lab POST, long history", "/api/lab-results/", long_patient_id, 5000),
        ("bare insert", "/bench/bare-lab/", new_patient_id, 6000),
    ):
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for number in range(posts):
            body = common.lab_body(patient_id, offset + number)
            assert client.post(path, body, format="json").status_code == 201
        profiler.disable()
        seconds = time.perf_counter() - started
        print(f"\nprofile: {label}, {posts} in-process POSTs, {1000 * seconds / posts:.1f} ms each")
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(25)
        # The product's own functions: where in the write path the time goes.
        stats.sort_stats("cumulative").print_stats(r"/(ecrf|patients|trials|visits)/", 40)
        stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per load phase")
    parser.add_argument("--max-requests", type=int, default=3000, help="per load phase")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--history", type=int, default=400, help="earlier results of one patient")
    parser.add_argument("--posts", type=int, default=20, help="in-process POSTs per patient")
    parser.add_argument("--port", type=int, default=18712)
    parser.add_argument(
        "--profile", action="store_true", help="profile in-process POSTs and bare inserts"
    )
    args = parser.parse_args()

    print(f"machine: {common.machine()}")
    started = time.perf_counter()
    common.create_database()
    from rest_framework.test import APIClient

    token = common.coordinator_token()
    patients = common.randomized_patients(20)
    new_patient, long_patient, *load_patients = patients
    # Eight patients for the bare inserts, eight for the lab POSTs: the bare rows (thousands)
    # must not lengthen the histories the POSTs' assessments read.
    bare_patients, post_patients = load_patients[2:10], load_patients[10:18]
    common.seed_platelet_history(long_patient, args.history)
    print(f"setup: {time.perf_counter() - started:.1f} s (20 randomized patients)")

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    counts = sql_per_post(client, load_patients[0].pk, 5)
    # Alternate the two patients, so a drift of the shared machine hits both alike.
    new_times, long_times = [], []
    for round_number in range(args.posts // 5):
        new_times += timed_posts(client, new_patient.pk, 5, 1000 + round_number * 5)
        long_times += timed_posts(client, long_patient.pk, 5, 1000 + round_number * 5)
    if args.profile:
        profile_posts(client, load_patients[1].pk, long_patient.pk, args.posts)
    from django.db import connections

    connections.close_all()

    server = common.Gunicorn(workers=args.workers, port=args.port)
    phases = []
    offset = 0
    for clients in (1, 8):
        for label, path in (("bare insert", "/bench/bare-lab/"), ("lab POST", "/api/lab-results/")):
            # Eight patients per endpoint, client c of k posting for patients c, c+k, ... in turn:
            # one client does not pile up one patient's history (a POST costs more as the history
            # grows) while 8 clients spread theirs over eight. The 8-client phase still finds the
            # histories the 1-client phase left (a few dozen results each).
            spread = bare_patients if path.startswith("/bench/") else post_patients
            bodies = [
                [
                    common.lab_body(mine[n % len(mine)].pk, offset + n)
                    for n in range(args.max_requests)
                ]
                for mine in (spread[client::clients] for client in range(clients))
            ]
            offset += args.max_requests
            # Warm up (imports, connections) outside the measurement.
            common.run_load(
                label=label,
                port=args.port,
                path=path,
                token=token,
                bodies_per_client=[b[:2] for b in bodies],
                seconds=30,
                max_requests=2 * clients,
            )
            phases.append(
                common.run_load(
                    label=label,
                    port=args.port,
                    path=path,
                    token=token,
                    bodies_per_client=[b[2:] for b in bodies],
                    seconds=args.seconds,
                    max_requests=args.max_requests,
                )
            )
    server.stop()

    print()
    common.print_table(
        ["endpoint", "clients", "requests", "errors", "req/s", "p50 ms", "p95 ms"],
        [
            [
                p.label,
                p.clients,
                len(p.latencies),
                p.errors,
                p.throughput,
                1000 * p.percentile(0.5),
                1000 * p.percentile(0.95),
            ]
            for p in phases
        ],
    )
    print()
    new_ms, long_ms = 1000 * common.median(new_times), 1000 * common.median(long_times)
    common.print_table(
        ["in-process lab POST", "value"],
        [
            ["SQL statements per POST (5 POSTs)", " ".join(map(str, counts))],
            ["median ms, new patient", new_ms],
            [f"median ms, patient with {args.history} earlier results", long_ms],
        ],
    )
    bare1, post1, bare8, post8 = phases
    print()
    print(
        "ratios: "
        f"POST/bare throughput 1 client {post1.throughput / bare1.throughput:.2f}x, "
        f"8 clients {post8.throughput / bare8.throughput:.2f}x; "
        f"8 vs 1 client POST {post8.throughput / post1.throughput:.2f}x "
        f"(bare {bare8.throughput / bare1.throughput:.2f}x); "
        f"p95 at 8 clients {1000 * post8.percentile(0.95):.0f} ms; "
        f"{args.history}-result patient / new patient {long_ms / new_ms:.2f}x; "
        f"SQL per POST {counts[-1]}"
    )


if __name__ == "__main__":
    main()
