"""Profiling target: hot_loop takes ~98% of the time, setup the rest.
Usage: py_hot.py SECONDS [SHARE_FILE]: writes hot_loop's measured share of
the wall time (0..1) to SHARE_FILE at exit.
       py_hot.py -n ROUNDS: a fixed amount of work; prints the CPU seconds it
took (process time: less noisy than wall time on a shared machine)."""
import sys
import time


def setup(n):
    # a little work outside hot_loop, so the share is not 100% by construction
    return sum(i * i for i in range(n))


def hot_loop(n):
    total = 0
    for i in range(n):
        total += i % 7
    return total


def main():
    if sys.argv[1:2] == ["-n"]:
        start = time.process_time()
        for _ in range(int(sys.argv[2])):
            setup(100)
            hot_loop(40000)
        print("%.4f" % (time.process_time() - start))
        return
    start = time.monotonic()
    end = start + float(sys.argv[1] if len(sys.argv) > 1 else 5)
    in_hot = 0.0
    while time.monotonic() < end:
        setup(100)
        t = time.monotonic()
        hot_loop(40000)
        in_hot += time.monotonic() - t
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write("%.4f\n" % (in_hot / (time.monotonic() - start)))


if __name__ == "__main__":
    main()
