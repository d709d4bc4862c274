"""Profiling target: a Python stack deeper than sampletop walks (300 frames).
Usage: py_deep.py SECONDS"""
import sys
import time


def rec(n, end):
    if n == 0:
        while time.monotonic() < end:
            pass
        return 0
    return rec(n - 1, end) + 1


if __name__ == "__main__":
    sys.setrecursionlimit(5000)
    rec(300, time.monotonic() + float(sys.argv[1] if len(sys.argv) > 1 else 5))
