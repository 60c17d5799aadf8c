"""Run a command as other processors would compute: under each CPU capability that this
processor can simulate (`isldl.machine.SIMULATED`), with one thread and with two.

    python -m isldl_book.simulated [--capabilities default avx2] [--threads 1 2] -- COMMAND…

What `make test-simulated` runs with `pytest -m pinned` (the tests that load the pinned fits):
every reader's laptop is another processor, whose kernels sum in another order. Prints one
line per configuration and exits with 1 if the command failed under any of them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from isldl.machine import SIMULATED, simulated_env


def run_simulated(command: list[str], capabilities=SIMULATED,
                  threads=(1, 2)) -> dict[tuple[str, int], int]:
    """{(capability, threads): exit status of `command` run so}."""
    statuses = {}
    for capability in capabilities:
        for count in threads:
            env = os.environ | simulated_env(capability, count)
            print(f"== {' '.join(command)}: as a {capability} processor computes, "
                  f"{count} thread(s)", flush=True)
            start = time.perf_counter()
            statuses[capability, count] = subprocess.run(command, env=env).returncode
            print(f"== {capability}, {count} thread(s): exit {statuses[capability, count]} "
                  f"in {time.perf_counter() - start:.0f} s", flush=True)
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl_book.simulated",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--capabilities", nargs="+", choices=SIMULATED, default=SIMULATED)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("command", nargs="+", help="the command, after --")
    args = parser.parse_args(argv)
    statuses = run_simulated(args.command, args.capabilities, args.threads)
    failed = [f"{capability} with {count} thread(s)"
              for (capability, count), status in statuses.items() if status]
    print(f"{len(statuses) - len(failed)} of {len(statuses)} simulated processors passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
