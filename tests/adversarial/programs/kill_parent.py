# kill_parent
# class: kill the harness
# tests: assert
# expect: fail fail,fail

import os, signal
for pid in (os.getppid(), 1, -1):
    for sig in (signal.SIGKILL, signal.SIGTERM):
        try:
            os.kill(pid, sig)
        except OSError as e:
            print(pid, e)
def f(x):
    return 0
