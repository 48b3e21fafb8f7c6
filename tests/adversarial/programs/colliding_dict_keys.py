# colliding_dict_keys
# class: decode bomb
# tests: call

import time
M = (1 << 61) - 1
def f(x):
    d, i, t0 = {}, 1, time.monotonic()
    while time.monotonic() - t0 < TIMEOUT * 0.4:
        for _ in range(200):
            d[i * M] = 0
            i += 1
    return d
