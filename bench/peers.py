"""Paired, interleaved timing of whole runtime processes (called by bench/peers.sh).

usage: peers.py RUNS GUEST_DIR NAME=COMMAND... (COMMAND: a runtime's argv before the module, ':'-separated)

Every round runs each runtime once on the workload, in a shuffled order, so that load from other
processes falls on all runtimes alike; the ratio tern/peer is taken within each round and the table
gives the median over the rounds. Wall time is measured around spawn + wait. Peak RSS is measured
apart, under /usr/bin/time (a child spawned from Python shares Python's pages until it execs, so its
own rusage reports Python's size).
"""
import os
import random
import statistics
import sys
import time

WORKLOADS = [
    ("hello", "Rust std hello, start to exit"),
    ("fib", "fib(35), call-heavy"),
    ("sha", "sha256 of 16 MiB"),
    ("clock", "1M clock_time_get (host-call cost)"),
    ("writes", "200k 16-byte writes to /dev/null"),
]
# WORKLOADS=hello bench/peers.sh: only the named workloads (separated by commas or spaces).
if os.environ.get("WORKLOADS"):
    chosen = os.environ["WORKLOADS"].replace(",", " ").split()
    unknown = set(chosen) - {w[0] for w in WORKLOADS}
    if unknown:
        sys.exit(f"peers.py: unknown workloads {sorted(unknown)} (hello fib sha clock writes)")
    WORKLOADS = [w for w in WORKLOADS if w[0] in chosen]


def run_once(argv, capture=False):
    """Runs argv with stdout to /dev/null (or a pipe); returns (seconds, peak RSS bytes, status, out)."""
    read_fd = None
    if capture:
        read_fd, out_fd = os.pipe()
    else:
        out_fd = os.open(os.devnull, os.O_WRONLY)
    null_in = os.open(os.devnull, os.O_RDONLY)
    actions = [
        (os.POSIX_SPAWN_DUP2, null_in, 0),
        (os.POSIX_SPAWN_DUP2, out_fd, 1),
    ]
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    os.close(out_fd)
    os.close(null_in)
    out = b""
    if capture:
        with os.fdopen(read_fd, "rb") as pipe:
            out = pipe.read()
    _, status, usage = os.wait4(pid, 0)
    elapsed = (time.perf_counter_ns() - start) / 1e9
    return elapsed, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status), out


def peak_rss(argv, runs=3):
    """The median peak RSS in bytes of argv over a few runs, from GNU time's %M (KiB)."""
    sizes = []
    for _ in range(runs):
        read_fd, write_fd = os.pipe()
        null = os.open(os.devnull, os.O_RDWR)
        actions = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1),
                   (os.POSIX_SPAWN_DUP2, write_fd, 2)]
        time_argv = ["/usr/bin/time", "-f", "%M"] + argv
        pid = os.posix_spawn(time_argv[0], time_argv, os.environ, file_actions=actions)
        os.close(write_fd)
        os.close(null)
        with os.fdopen(read_fd, "rb") as pipe:
            last = pipe.read().decode().strip().splitlines()[-1]
        os.waitpid(pid, 0)
        sizes.append(int(last) * 1024)
    return statistics.median(sizes)


def fmt_time(seconds):
    return f"{seconds * 1000:.2f} ms" if seconds < 0.1 else f"{seconds:.3f} s"


def main():
    runs = int(sys.argv[1])
    guests = sys.argv[2]
    runtimes = []
    for spec in sys.argv[3:]:
        name, command = spec.split("=", 1)
        runtimes.append((name, command.split(":")))
    names = [name for name, _ in runtimes]
    assert names[0] == "tern", "the first runtime is the one the ratios are for"

    times = {(w, n): [] for w, _ in WORKLOADS for n in names}
    ratios = {(w, n): [] for w, _ in WORKLOADS for n in names[1:]}
    rss = {}
    for workload, _ in WORKLOADS:
        module = os.path.join(guests, workload + ".wasm")
        # One run each to warm caches and to check that every runtime prints the same thing.
        outputs = {}
        for name, argv in runtimes:
            _, _, code, out = run_once(argv + [module], capture=True)
            if code != 0:
                sys.exit(f"peers.py: {name} {workload}: exit status {code}")
            # wasmi_cli --fuel adds a line of its own ("fuel consumed: N, fuel remaining: M").
            out = b"".join(l for l in out.splitlines(True) if not l.startswith(b"fuel consumed: "))
            outputs[name] = out if workload != "writes" else len(out)
        if workload not in ("clock",) and len(set(map(repr, outputs.values()))) != 1:
            sys.exit(f"peers.py: {workload}: the runtimes disagree: {outputs}")
        for _ in range(runs):
            order = list(runtimes)
            random.shuffle(order)
            round_times = {}
            for name, argv in order:
                seconds, _, code, _ = run_once(argv + [module])
                if code != 0:
                    sys.exit(f"peers.py: {name} {workload}: exit status {code}")
                round_times[name] = seconds
                times[(workload, name)].append(seconds)
            for name in names[1:]:
                ratios[(workload, name)].append(round_times["tern"] / round_times[name])
        print(f"  {workload}: done", file=sys.stderr)

    for name, argv in runtimes:
        rss[name] = peak_rss(argv + [os.path.join(guests, "hello.wasm")])

    print(f"\nRatios tern / peer: median over {runs} paired rounds (< 1 means tern is faster)\n")
    print("| workload | " + " | ".join(f"tern / {n}" for n in names[1:]) + " |")
    print("|---|" + "---:|" * (len(names) - 1))
    for workload, label in WORKLOADS:
        cells = [f"{statistics.median(ratios[(workload, n)]):.2f}" for n in names[1:]]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"\nMedian wall time of each runtime (same rounds)\n")
    print("| workload | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for workload, label in WORKLOADS:
        cells = [fmt_time(statistics.median(times[(workload, n)])) for n in names]
        print(f"| {label} | " + " | ".join(cells) + " |")
    cells = [f"{rss[n] / 1e6:.1f} MB" for n in names]
    print("| peak RSS, hello | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
