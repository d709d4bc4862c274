"""Profiling target: Python calling a C function (spin_native in the shared
library given as argument) through ctypes.
Usage: py_native.py LIBRARY SECONDS"""
import ctypes
import sys
import time


def call_native(lib):
    return lib.spin_native(ctypes.c_uint64(2000000))


def main():
    lib = ctypes.CDLL(sys.argv[1])
    lib.spin_native.restype = ctypes.c_uint64
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        call_native(lib)


if __name__ == "__main__":
    main()
