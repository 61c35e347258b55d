"""paralab's Python driver: one run of the notebook's experiment in CPython.

paralab passes this text to the interpreter itself, with no file on disk
(so that nothing is left behind whatever ends paralab), and runs
    python3 -c DRIVER MODEL START_METHOD WORKLOAD AMOUNT WORKERS
in the root directory, with PARALAB_PARENT_PID in its environment.
MODEL is thread, process, async, thread-pool, process-pool,
interpreters, dask (see run_dask) or mpi (one rank of N under mpirun, see
run_mpi); START_METHOD is fork, spawn or forkserver for process, the
scheduler's address or 'local' for dask, '-' otherwise;
WORKLOAD is cpu (AMOUNT = iterations) or sleep (AMOUNT = nanoseconds).
It prints one JSON object on stdout:
    {"python": "3.11.7", "gil_enabled": true, "t0_ns": ..., "wall_s": ...,
     "startup_s": ...,
     "workers": [{"worker": 0, "result": ..., "start_ns": ..., "end_ns": ...,
                  "user_s": ..., "system_s": ..., "voluntary_switches": ...,
                  "involuntary_switches": ...}, ...]}
where wall_s is timed as the notebook times it (from before the first
start to after the last join), t0_ns is when that timing began, and every
*_ns is CLOCK_MONOTONIC (time.monotonic_ns), the clock paralab uses.
startup_s, for the models with a start-up (a pool's workers, the
subinterpreters, the forkserver, a Dask cluster or client), is what it
took before t0_ns: it is never part of wall_s. dask adds "cluster" (its
workers, threads and hosts) and, for a task another machine ran, that
worker's "host" instead of its start_ns and end_ns.
gil_enabled is the interpreter's GIL as the run ended: PYTHON_GIL, -X gil
or an extension module can turn it back on in a free-threaded CPython.
The CPU fields of a worker are present where Python can measure them:
a thread's (and a cpu task's) own counters around its work, a process's
whole life up to its report; an asyncio sleep task has none, because
while it awaits, the thread's counters belong to the other tasks.

The driver and every worker process die with their parent, even when the
parent is killed with SIGKILL and cannot pass anything on
(see die_with_parent).
"""

import sys

# `-c` puts the working directory first on the module path: a json.py
# planted there must not be imported (paralab also starts us in /).
if sys.path and sys.path[0] == "":
    del sys.path[0]

# What a worker process runs. It is source text, not only functions of
# this module, because a spawned worker is a fresh interpreter that has
# no driver file to import: it is given this text to run (see
# run_processes). The driver runs it too, for its threads and tasks.
WORKER = r"""
import os
import sys
import threading
import time

try:
    import resource
except ImportError:  # not on every platform; thread_time() still gives CPU
    resource = None

# RUSAGE_THREAD (Linux) gives the calling thread's own user and system time
# and context switches; without it only time.thread_time() (user + system).
RUSAGE_THREAD = getattr(resource, "RUSAGE_THREAD", None)

# prctl(2)'s request to be sent a signal when the parent dies (Linux).
PR_SET_PDEATHSIG = 1


def die_with_parent(parent):
    '''Ends this process when its parent, pid `parent`, dies, however it
    dies (kill -9 included): on Linux the kernel sends SIGKILL
    (PR_SET_PDEATHSIG); elsewhere a daemon thread watches os.getppid().'''
    if parent is None:
        return
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    except (ImportError, OSError, AttributeError):
        threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()
    # The parent may have died before the kernel was asked to tell us.
    if os.getppid() != parent:
        os._exit(1)


def watch_parent(parent):
    '''Polls for the parent's death where prctl is not available: an
    orphan is adopted, so its parent pid changes.'''
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


def thread_usage():
    '''The calling thread's CPU counters so far.'''
    if RUSAGE_THREAD is not None:
        r = resource.getrusage(RUSAGE_THREAD)
        return {"user_s": r.ru_utime, "system_s": r.ru_stime,
                "voluntary_switches": r.ru_nvcsw, "involuntary_switches": r.ru_nivcsw}
    return {"cpu_s": time.thread_time()}


def process_usage():
    '''This whole process's CPU counters so far (as wait4 would report it).'''
    if resource is None:
        times = os.times()
        return {"user_s": times.user, "system_s": times.system}
    r = resource.getrusage(resource.RUSAGE_SELF)
    return {"user_s": r.ru_utime, "system_s": r.ru_stime,
            "voluntary_switches": r.ru_nvcsw, "involuntary_switches": r.ru_nivcsw}


def usage_between(before, after):
    '''What the counters grew by between two thread_usage() readings.'''
    return {key: after[key] - before[key] for key in after}


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
    '''Runs one worker's work in this thread; its report, with this thread's CPU.'''
    before = thread_usage()
    start = time.monotonic_ns()
    result = work(workload, amount)
    end = time.monotonic_ns()
    report = {"worker": index, "result": result, "start_ns": start, "end_ns": end,
              "tid": threading.get_native_id()}
    report.update(usage_between(before, thread_usage()))
    return report


def process_main(channel, index, workload, amount, parent):
    if parent is None:
        # Forkserver: our parent is the server, which exits with the driver.
        parent = os.getppid()
    die_with_parent(parent)
    report = timed(index, workload, amount)
    # The child's whole life (its start-up included), as wait4 reports a
    # Rust worker process.
    report.update(process_usage())
    channel.send(report)
    channel.close()
"""

exec(WORKER)

import asyncio  # noqa: E402  (after the path is made safe)
import json  # noqa: E402
import multiprocessing  # noqa: E402
import socket  # noqa: E402


def gil_enabled():
    """Whether this interpreter's threads share a GIL now (always before 3.13)."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


class Worker(threading.Thread):
    """The notebook's CpuThread / IoThread, keeping its report."""

    def __init__(self, index, workload, amount):
        super().__init__()
        self.args = (index, workload, amount)
        self.report = None

    def run(self):
        self.report = timed(*self.args)


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
    # One pipe per worker, not a multiprocessing.Queue: a Queue's
    # semaphores are named files in /dev/shm under spawn, which a driver
    # killed by SIGKILL (a second Ctrl-C) would leave behind.
    channels = [context.Pipe(duplex=False) for _ in range(workers)]

    startup = None
    if method == "forkserver":
        # The server is started once, before the timing, as a pool is.
        began = time.monotonic_ns()
        from multiprocessing import forkserver
        forkserver.ensure_running()
        startup = (time.monotonic_ns() - began) / 1e9
    parent = None if method == "forkserver" else os.getpid()

    def process(index):
        args = (channels[index][1], index, workload, amount, parent)
        if method == "fork":
            # A copy of this process: the functions are already here.
            return context.Process(target=process_main, args=args)
        # A fresh interpreter: it runs WORKER, then the worker's part.
        code = WORKER + "\nprocess_main(*ARGS)\n"
        return context.Process(target=exec, args=(code, {"__name__": "paralab_worker", "ARGS": args}))

    start = time.monotonic_ns()
    processes = [process(i) for i in range(workers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    wall = (time.monotonic_ns() - start) / 1e9
    reports = []
    for p, (reader, writer) in zip(processes, channels):
        if p.exitcode != 0:
            print(f"worker process exited with code {p.exitcode}", file=sys.stderr)
        # Ours closed, a worker that died without a report reads as the end.
        writer.close()
        try:
            if reader.poll(5):
                reports.append(reader.recv())
        except (EOFError, OSError):
            pass
        reader.close()
    return start, wall, reports, startup


async def run_tasks(workload, amount, workers):
    async def task(index):
        if workload == "cpu":
            # Runs in the event loop, one task at a time, with no await in
            # between: the thread's counters around it are this task's.
            return timed(index, workload, amount)
        start = time.monotonic_ns()
        await asyncio.sleep(amount / 1e9)
        return {"worker": index, "result": amount, "start_ns": start, "end_ns": time.monotonic_ns()}

    start = time.monotonic_ns()
    reports = await asyncio.gather(*(task(i) for i in range(workers)))
    return start, (time.monotonic_ns() - start) / 1e9, list(reports)


def run_thread_pool(workload, amount, workers):
    """concurrent.futures.ThreadPoolExecutor: N threads, N tasks."""
    from concurrent.futures import ThreadPoolExecutor

    began = time.monotonic_ns()
    pool = ThreadPoolExecutor(max_workers=workers)
    # The pool starts its threads as tasks arrive: N tasks that wait for
    # each other make it start all N now, before the timing.
    ready = threading.Barrier(workers)
    list(pool.map(lambda _: ready.wait(), range(workers)))
    startup = (time.monotonic_ns() - began) / 1e9

    start = time.monotonic_ns()
    futures = [pool.submit(timed, i, workload, amount) for i in range(workers)]
    reports = [f.result() for f in futures]
    wall = (time.monotonic_ns() - start) / 1e9
    pool.shutdown()
    return start, wall, reports, startup


def pool_process_ready(parent, ready):
    """A pool process's first act: die with the driver, wait for the others."""
    die_with_parent(parent)
    ready.wait(timeout=60)


def run_process_pool(workload, amount, workers):
    """concurrent.futures.ProcessPoolExecutor: N processes, N tasks.

    Its processes are forked (multiprocessing's default on Linux up to
    3.13), so they have the driver's functions without a file to import."""
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    began = time.monotonic_ns()
    ready = context.Barrier(workers)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=pool_process_ready, initargs=(os.getpid(), ready))
    # Every process waits for the others before its first task, so all N
    # are started now, before the timing.
    list(f.result() for f in [pool.submit(os.getpid) for _ in range(workers)])
    startup = (time.monotonic_ns() - began) / 1e9

    start = time.monotonic_ns()
    futures = [pool.submit(timed, i, workload, amount) for i in range(workers)]
    reports = [f.result() for f in futures]
    wall = (time.monotonic_ns() - start) / 1e9
    pool.shutdown()
    return start, wall, reports, startup


# PEP 734's module: in the standard library from 3.14, from the PyPI
# backport interpreters-pep-734 on 3.13. Source text, because each
# subinterpreter must import it too before it can use a queue.
IMPORT_INTERPRETERS = """
try:
    from concurrent import interpreters
except ImportError:
    from interpreters_backport import interpreters
interpreters.create_queue  # imports the queues, without which none is received
"""


def run_interpreters(workload, amount, workers):
    """N subinterpreters, each run by a thread of ours: one GIL each."""
    namespace = {}
    exec(IMPORT_INTERPRETERS, namespace)
    interpreters = namespace["interpreters"]
    began = time.monotonic_ns()
    queue = interpreters.create_queue()
    interps = [interpreters.create() for _ in range(workers)]
    for index, interp in enumerate(interps):
        # A fresh interpreter shares no objects with this one: it is given
        # WORKER to run, and its report comes back as JSON text.
        interp.exec(WORKER + IMPORT_INTERPRETERS + "import json\n")
        interp.prepare_main(reports=queue, index=index, workload=workload, amount=amount)
    startup = (time.monotonic_ns() - began) / 1e9

    reports = []

    def run(interp):
        try:
            interp.exec("reports.put(json.dumps(timed(index, workload, amount)))")
            reports.append(json.loads(queue.get()))
        except Exception as error:  # reported as a lost worker
            print(f"subinterpreter failed: {error}", file=sys.stderr)

    start = time.monotonic_ns()
    threads = [threading.Thread(target=run, args=(interp,)) for interp in interps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = (time.monotonic_ns() - start) / 1e9
    for interp in interps:
        interp.close()
    return start, wall, reports, startup


def run_mpi(workload, amount, workers):
    """mpi4py: this process is one of N ranks that mpirun started, each
    running the driver. The work runs between two barriers; every rank
    prints its own report as soon as its work is done (should another rank
    die, MPI ends the job before the gather, and these lines are all that
    is left of the ranks that had finished); rank 0 gathers every rank's
    report and prints the job's. The lines are those of paralab's own MPI
    ranks (src/mpi/report.rs). Returns the exit code."""
    from mpi4py import MPI  # starts MPI: mpirun's launch ends at the first barrier

    # Our parent is the launcher's process on this host, not paralab.
    die_with_parent(os.getppid())
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    if comm.Get_size() != workers:
        # An mpirun of another MPI than mpi4py's starts N jobs of one rank.
        print(f"rank {rank} is in a job of {comm.Get_size()} ranks, not {workers}: "
              "is mpirun the one of the MPI mpi4py was built with?", file=sys.stderr)
        return 3
    comm.Barrier()
    t0 = MPI.Wtime()
    ready_ns = time.monotonic_ns()
    report = timed(rank, workload, amount)
    mine = {"rank": rank, "result": report["result"],
            "start_s": (report["start_ns"] - ready_ns) / 1e9,
            "end_s": (report["end_ns"] - ready_ns) / 1e9,
            "user_s": report.get("user_s", report.get("cpu_s", 0.0)),
            "system_s": report.get("system_s", 0.0),
            "voluntary_switches": report.get("voluntary_switches", 0),
            "involuntary_switches": report.get("involuntary_switches", 0),
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if resource else 0,
            "host": MPI.Get_processor_name()}
    print(json.dumps({"paralab_mpi_rank": mine}), flush=True)
    comm.Barrier()
    wall = MPI.Wtime() - t0
    ranks = comm.gather(mine, root=0)
    if rank == 0:
        library = MPI.Get_library_version().split(",")[0].strip()
        print(json.dumps({"paralab_mpi": 1, "wall_s": wall, "ready_mono_ns": ready_ns,
                          "library": library, "ranks": ranks}), flush=True)
    return 0
# How long a client may try to reach a scheduler before the run fails.
DASK_CONNECT_S = 10


def dask_task(index, workload, amount):
    """One Dask task: the worker's report, and which machine's clock timed
    it (the boot id: processes of one machine share CLOCK_MONOTONIC)."""
    report = timed(index, workload, amount)
    with open("/proc/sys/kernel/random/boot_id") as f:
        report["clock"] = f.read().strip()
    report["host"] = socket.gethostname()
    return report


def run_dask(scheduler, workload, amount, workers):
    """Dask distributed: N tasks on a LocalCluster of N single-threaded
    worker processes (scheduler 'local'), or on the workers of the
    scheduler at tcp://HOST:PORT, wherever they are."""
    # Dask's log lines would bury the one line paralab shows of a failure,
    # and a task whose worker dies must fail, not run again unseen.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
    os.environ["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "0"
    import logging
    from dask.distributed import Client, LocalCluster
    logging.disable(logging.CRITICAL)

    began = time.monotonic_ns()
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    try:
        client = Client(cluster if cluster is not None else scheduler, timeout=DASK_CONNECT_S)
    except (OSError, TimeoutError) as error:
        raise SystemExit(f"cannot reach the Dask scheduler at {scheduler} within "
                         f"{DASK_CONNECT_S} s ({error}); is it running?")
    remote = client.scheduler_info()["workers"].values()
    info = {"workers": len(remote), "threads": sum(w["nthreads"] for w in remote),
            "hosts": len({w["host"] for w in remote})}
    startup = (time.monotonic_ns() - began) / 1e9

    start = time.monotonic_ns()
    futures = [client.submit(dask_task, i, workload, amount, pure=False) for i in range(workers)]
    try:
        reports = client.gather(futures)
    except (Exception, asyncio.CancelledError) as error:  # the scheduler or a worker died
        first_sentence = (str(error).strip().splitlines() or [""])[0].split(". ")[0].rstrip(".")
        raise SystemExit(f"the Dask run failed: {type(error).__name__}: {first_sentence}")
    wall = (time.monotonic_ns() - start) / 1e9
    # Another's scheduler runs a task again when its worker dies (our
    # LocalCluster does not): its timing would hide the death.
    died = client.run_on_scheduler(lambda dask_scheduler, keys: sum(
        dask_scheduler.tasks[k].suspicious for k in keys if k in dask_scheduler.tasks),
        keys=[f.key for f in futures])
    if died:
        raise SystemExit(f"the Dask run failed: {died} worker(s) died while running its tasks, "
                         "which the scheduler ran again elsewhere")
    with open("/proc/sys/kernel/random/boot_id") as f:
        here = f.read().strip()
    for report in reports:
        if report.pop("clock") != here:
            # Another machine's clock: its CPU times hold, its start and
            # end cannot be placed on ours; its host is named.
            del report["start_ns"], report["end_ns"]
            info["elsewhere"] = info.get("elsewhere", 0) + 1
        else:
            del report["host"]
    client.close()
    if cluster is not None:
        cluster.close()
    return start, wall, reports, startup, info


def parent_pid():
    """paralab's pid, which it names in PARALAB_PARENT_PID (None when run by hand)."""
    try:
        return int(os.environ["PARALAB_PARENT_PID"])
    except (KeyError, ValueError):
        return None


def main(argv):
    if sys.version_info < (3, 8):
        print(f"paralab needs Python 3.8 or newer, this is {sys.version.split()[0]}", file=sys.stderr)
        return 3
    die_with_parent(parent_pid())
    model, method, workload, amount, workers = argv[1], argv[2], argv[3], int(argv[4]), int(argv[5])
    startup, cluster = None, None
    if model == "thread":
        t0, wall, reports = run_threads(workload, amount, workers)
    elif model == "process":
        t0, wall, reports, startup = run_processes(method, workload, amount, workers)
    elif model == "async":
        t0, wall, reports = asyncio.run(run_tasks(workload, amount, workers))
    elif model == "thread-pool":
        t0, wall, reports, startup = run_thread_pool(workload, amount, workers)
    elif model == "process-pool":
        t0, wall, reports, startup = run_process_pool(workload, amount, workers)
    elif model == "interpreters":
        t0, wall, reports, startup = run_interpreters(workload, amount, workers)
    elif model == "dask":
        t0, wall, reports, startup, cluster = run_dask(method, workload, amount, workers)
    elif model == "mpi":
        return run_mpi(workload, amount, workers)  # prints paralab's MPI lines
    else:
        print(f"unknown model {model!r}", file=sys.stderr)
        return 2
    print(json.dumps({"python": sys.version.split()[0], "gil_enabled": gil_enabled(),
                      "t0_ns": t0, "wall_s": wall, "startup_s": startup, "cluster": cluster, "workers": reports}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
