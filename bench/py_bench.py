"""Python's concurrent.futures, the library rxjs-pools is modelled on, as a benchmark peer.

    python3 bench/py_bench.py <workload> <system> '<params json>'

Same workloads and output protocol as bench/child.mjs: prints @@FIRST when a cold pool returns its
first result and @@RESULT {json} at the end. Systems: py-process-c1, py-process-c256 (ProcessPool
map with that chunksize), py-thread (ThreadPool; map ignores chunksize there).
"""
import json
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def inc(x):
    return x + 1


def spin(n):
    x = 1
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return x


def echo(buf):
    return buf


def seed_thread(n):
    time.sleep(1)
    return n


def seed_process(n):
    time.sleep(2)
    return n * n


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make(system, workers):
    if system.startswith("py-process"):
        return ProcessPoolExecutor(max_workers=workers)
    if system == "py-thread":
        return ThreadPoolExecutor(max_workers=workers)
    raise SystemExit(f"unknown system {system}")


def chunksize(system):
    return 256 if system.endswith("c256") else 1


def main():
    workload, system = sys.argv[1], sys.argv[2]
    p = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    cs = chunksize(system)
    now = time.perf_counter

    if workload == "overhead":
        n = p.get("n", 20000)
        with make(system, p.get("workers", 2)) as ex:
            list(ex.map(inc, range(p.get("warm", 512)), chunksize=cs))
            t0 = now()
            out = list(ex.map(inc, range(n), chunksize=cs))
            s = now() - t0
        assert out == [i + 1 for i in range(n)]
        res = {"value": n / s, "unit": "tasks/s", "ms": s * 1000}

    elif workload == "cpu":
        n, k = p["pyspin"], p.get("tasks", 64)
        spin(n)

        def on_main():
            t0 = now()
            for _ in range(k):
                spin(n)
            return now() - t0

        # Main thread timed before and after the pool, the faster taken: noise only slows things.
        main_s = on_main()
        with make(system, p.get("workers", 2)) as ex:
            list(ex.map(spin, [n >> 2] * 4, chunksize=1))
            t0 = now()
            out = list(ex.map(spin, [n] * k, chunksize=cs))
            s = now() - t0
        main_s = min(main_s, on_main())
        assert len(set(out)) == 1
        res = {"value": main_s / s, "unit": "x", "ms": s * 1000, "mainMs": main_s * 1000, "perTaskMs": main_s * 1000 / k}

    elif workload == "cold":
        t0 = now()
        ex = make(system, p.get("workers", 2))
        r = ex.submit(inc, 1).result()
        s = now() - t0
        sys.stdout.write("@@FIRST\n")
        sys.stdout.flush()
        assert r == 2
        ex.shutdown(wait=False)
        res = {"value": s * 1000, "unit": "ms"}

    elif workload in ("transfer-copy", "transfer-move"):
        size, reps = p.get("mb", 16) << 20, p.get("reps", 8)
        buf = bytearray(size)
        buf[0], buf[-1] = 7, 9
        times = []
        with make(system, 1) as ex:
            for i in range(reps + 2):
                t0 = now()
                back = ex.submit(echo, buf).result()
                ms = (now() - t0) * 1000
                assert len(back) == size and back[0] == 7 and back[-1] == 9
                buf = back
                if i >= 2:
                    times.append(ms)
        times.sort()
        med = times[len(times) // 2]
        res = {"value": med, "unit": "ms", "mbps": 2 * (size / 2**20) / (med / 1000)}

    elif workload in ("seed-threads", "seed-processes"):
        threads = workload == "seed-threads"
        items = list(range(1, 11)) if threads else [1, 2, 3, 4, 5, 11, 12, 14]
        t0 = now()
        with make(system, 3) as ex:
            out = list(ex.map(seed_thread if threads else seed_process, items))
            s = now() - t0
        assert out == (items if threads else [x * x for x in items])
        res = {"value": s, "unit": "s"}

    elif workload == "memory":
        n = p.get("n", 1_000_000)
        base = rss_bytes()
        t0 = now()
        expect = 1
        with make(system, p.get("workers", 2)) as ex:
            for v in ex.map(inc, range(n), chunksize=cs):
                assert v == expect
                expect += 1
        s = now() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        res = {"value": (peak - base) / 2**20, "unit": "MB", "baseMB": base / 2**20, "itemsPerSec": n / s}

    else:
        raise SystemExit(f"unknown workload {workload}")

    sys.stdout.write("@@RESULT " + json.dumps(res) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # report, like the Node child, instead of a bare traceback
        sys.stdout.write("@@ERROR " + json.dumps(f"{type(e).__name__}: {e}") + "\n")
        sys.stdout.flush()
        sys.exit(1)
