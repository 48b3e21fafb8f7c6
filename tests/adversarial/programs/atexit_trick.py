# atexit_trick
# class: faking
# tests: assert
# expect: error

import atexit, os
atexit.register(lambda: os.write(1, b'C 0 pass null\n'))
def f(x):
    return 0
raise SystemExit(0)
