"""paralab's race lesson in CPython: THREADS threads add 1 to one global
counter N times each, first as the notebook writes it (counter += 1), then
reading it, calling a function, and writing the result back. Prints one
JSON object: the version, whether the GIL is on, and each form's count."""

import json
import sys
import threading
import time

threads, n = int(sys.argv[1]), int(sys.argv[2])
counter = 0


def increment(value):
    return value + 1


def plain():
    global counter
    for _ in range(n):
        counter += 1


def read_call_write():
    global counter
    for _ in range(n):
        seen = counter
        # CPython (3.10+) may switch threads on entering a function: the
        # other threads' increments made meanwhile are overwritten below.
        counter = increment(seen)


def run(target):
    global counter
    counter = 0
    workers = [threading.Thread(target=target) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"counted": counter, "seconds": time.perf_counter() - start}


print(json.dumps({
    "version": "%d.%d.%d" % sys.version_info[:3],
    "gil_enabled": bool(getattr(sys, "_is_gil_enabled", lambda: True)()),
    "plain": run(plain),
    "read_call_write": run(read_call_write),
}))
