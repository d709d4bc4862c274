"""Profiling target: two threads, each spinning in its own function.
Usage: py_threads.py SECONDS"""
import sys
import threading
import time


def spin_alpha(end):
    x = 0
    while time.monotonic() < end:
        for i in range(10000):
            x += i
    return x


def spin_beta(end):
    y = 1
    while time.monotonic() < end:
        for i in range(10000):
            y ^= i
    return y


def main():
    end = time.monotonic() + float(sys.argv[1] if len(sys.argv) > 1 else 5)
    a = threading.Thread(target=spin_alpha, args=(end,), name="alpha")
    b = threading.Thread(target=spin_beta, args=(end,), name="beta")
    a.start()
    b.start()
    a.join()
    b.join()


if __name__ == "__main__":
    main()
