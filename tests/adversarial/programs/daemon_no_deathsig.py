# daemon_no_deathsig
# class: daemon
# tests: assert

import ctypes, os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG 0
        os.setpgid(0, 0)
        time.sleep(60)
    os._exit(0)
time.sleep(0.2)
def f(x):
    return 0
