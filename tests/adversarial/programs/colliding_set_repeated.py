# colliding_set_repeated
# class: decode bomb
# tests: call

import time
M = (1 << 61) - 1
def f(x):
    s, i, t0 = set(), 1, time.monotonic()
    while time.monotonic() - t0 < TIMEOUT * 0.2:
        s.add(i * M)
        i += 1
    return [s] * 64  # one object, encoded 64 times
