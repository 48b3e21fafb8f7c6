# kill_own_group
# class: kill the harness
# tests: assert
# expect: error

import os, signal
os.killpg(0, signal.SIGKILL)
def f(x):
    return 0
