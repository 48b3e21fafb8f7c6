# double_fork_daemon
# class: daemon
# tests: assert

import os, signal, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        time.sleep(60)
    os._exit(0)
time.sleep(0.2)
def f(x):
    return 0
