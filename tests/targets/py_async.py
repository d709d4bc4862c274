"""Profiling target: an asyncio event loop running coroutines that burn CPU,
the shape of an ASGI server (uvicorn) under load.
Usage: py_async.py SECONDS"""
import asyncio
import sys
import time


def render(n):
    return sum(i * 3 % 11 for i in range(n))


async def handle_request(i):
    await asyncio.sleep(0)
    return render(20000)


async def serve(end):
    while time.monotonic() < end:
        await asyncio.gather(*(handle_request(i) for i in range(8)))


def main():
    asyncio.run(serve(time.monotonic() + float(sys.argv[1] if len(sys.argv) > 1 else 5)))


if __name__ == "__main__":
    main()
