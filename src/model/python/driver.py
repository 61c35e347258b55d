"""paralab's Python driver: one run of the notebook's experiment in CPython.

paralab writes this file into a fresh private temporary directory and runs
    python3 driver.py MODEL START_METHOD WORKLOAD AMOUNT WORKERS
MODEL is thread, process or async; START_METHOD is fork or spawn (process
only, '-' otherwise); WORKLOAD is cpu (AMOUNT = iterations) or sleep
(AMOUNT = nanoseconds). It prints one JSON object on stdout:
    {"python": "3.11.7", "t0_ns": ..., "wall_s": ..., "workers": [
     {"worker": 0, "result": ..., "start_ns": ..., "end_ns": ...}, ...]}
where wall_s is timed as the notebook times it (from before the first
start to after the last join), t0_ns is when that timing began, and every
*_ns is CLOCK_MONOTONIC (time.monotonic_ns), the clock paralab uses.
"""

import asyncio
import json
import multiprocessing
import sys
import threading
import time


def cpu_func(result, niters):
    '''
    A useless CPU bound function. (The notebook's, verbatim.)
    '''
    for i in range(niters):
        result = (result * result * i + 2 * result * i * i + 3) % 10000000
    return result


def work(workload, amount):
    if workload == "cpu":
        return cpu_func(1, amount)
    time.sleep(amount / 1e9)
    return amount


def timed(index, workload, amount):
    start = time.monotonic_ns()
    result = work(workload, amount)
    return {"worker": index, "result": result, "start_ns": start, "end_ns": time.monotonic_ns()}


class Worker(threading.Thread):
    """The notebook's CpuThread / IoThread, keeping its report."""

    def __init__(self, index, workload, amount):
        super().__init__()
        self.args = (index, workload, amount)
        self.report = None

    def run(self):
        self.report = timed(*self.args)


def process_main(queue, index, workload, amount):
    queue.put(timed(index, workload, amount))


def run_threads(workload, amount, workers):
    start = time.monotonic_ns()
    threads = [Worker(i, workload, amount) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = (time.monotonic_ns() - start) / 1e9
    return start, wall, [t.report for t in threads if t.report is not None]


def run_processes(method, workload, amount, workers):
    context = multiprocessing.get_context(method)
    queue = context.Queue()
    start = time.monotonic_ns()
    processes = [context.Process(target=process_main, args=(queue, i, workload, amount)) for i in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    wall = (time.monotonic_ns() - start) / 1e9
    reports = []
    for process in processes:
        if process.exitcode != 0:
            print(f"worker process exited with code {process.exitcode}", file=sys.stderr)
    while len(reports) < workers:
        try:
            reports.append(queue.get(timeout=5))
        except Exception:
            break
    return start, wall, reports


async def run_tasks(workload, amount, workers):
    async def task(index):
        start = time.monotonic_ns()
        if workload == "cpu":
            result = cpu_func(1, amount)  # runs in the event loop: one at a time
        else:
            await asyncio.sleep(amount / 1e9)
            result = amount
        return {"worker": index, "result": result, "start_ns": start, "end_ns": time.monotonic_ns()}

    start = time.monotonic_ns()
    reports = await asyncio.gather(*(task(i) for i in range(workers)))
    return start, (time.monotonic_ns() - start) / 1e9, list(reports)


def main(argv):
    if sys.version_info < (3, 8):
        print(f"paralab needs Python 3.8 or newer, this is {sys.version.split()[0]}", file=sys.stderr)
        return 3
    model, method, workload, amount, workers = argv[1], argv[2], argv[3], int(argv[4]), int(argv[5])
    if model == "thread":
        t0, wall, reports = run_threads(workload, amount, workers)
    elif model == "process":
        t0, wall, reports = run_processes(method, workload, amount, workers)
    elif model == "async":
        t0, wall, reports = asyncio.run(run_tasks(workload, amount, workers))
    else:
        print(f"unknown model {model!r}", file=sys.stderr)
        return 2
    print(json.dumps({"python": sys.version.split()[0], "t0_ns": t0, "wall_s": wall, "workers": reports}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
