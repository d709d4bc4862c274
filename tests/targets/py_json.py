"""Profiling target: Python calling into a C extension (_json's encoder).
Usage: py_json.py SECONDS"""
import json
import sys
import time


def make_doc():
    return [{"id": i, "name": "item%d" % i, "tags": ["a", "b", "c"], "v": i * 0.5}
            for i in range(2000)]


def handle(doc):
    return len(json.dumps(doc))


def main():
    end = time.monotonic() + float(sys.argv[1] if len(sys.argv) > 1 else 5)
    doc = make_doc()
    while time.monotonic() < end:
        handle(doc)


if __name__ == "__main__":
    main()
