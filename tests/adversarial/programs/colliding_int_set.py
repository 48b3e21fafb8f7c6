# colliding_int_set: a set of ints with one hash value: quadratic to rebuild
# class: decode bomb
# tests: call

import time
M = (1 << 61) - 1  # every multiple of M hashes to 0
def f(x):
    s, i, t0 = set(), 1, time.monotonic()
    while time.monotonic() - t0 < TIMEOUT * 0.4:
        for _ in range(200):
            s.add(i * M)
            i += 1
    return s
