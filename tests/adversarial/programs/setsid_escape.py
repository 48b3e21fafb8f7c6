# setsid_escape
# class: daemon
# tests: assert
# expect: fail fail,fail

import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(30)
    os._exit(0)
time.sleep(0.2)
def f(x):
    return 0
