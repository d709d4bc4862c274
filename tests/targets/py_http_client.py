"""Drives py_http.py: PORT N_SLOW N_FAST OUT. Sends the requests one at a
time, interleaved, over fresh connections, and writes one line per request
to OUT: "slow|fast milliseconds" as the client measured them, from the
request sent (connected) to the response read."""
import http.client
import sys
import time


def main():
    port, n_slow, n_fast, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    paths = ["/slow"] * n_slow + ["/fast"] * n_fast
    # Interleave: slow, fast, fast, ... so calls of both kinds mix in time.
    order = []
    while paths:
        order.append(paths.pop(0))
        if paths:
            order.append(paths.pop())
    with open(out, "w") as f:
        for p in order:
            c = http.client.HTTPConnection("127.0.0.1", port)
            # Connected first: the server's accept and its new thread are
            # not the request's time.
            c.connect()
            t0 = time.perf_counter()
            c.request("GET", p)
            r = c.getresponse()
            r.read()
            ms = (time.perf_counter() - t0) * 1000
            c.close()
            f.write("%s %.3f\n" % (p[1:], ms))
            time.sleep(0.02)


if __name__ == "__main__":
    main()
