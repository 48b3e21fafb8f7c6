# fork_and_report_later
# class: faking
# tests: assert

import os, time
if os.fork() != 0:
    os._exit(0)
time.sleep(0.05)
for fd in range(3, 64):
    try:
        os.write(fd, b'C 0 pass null\nC 1 pass null\n')
    except OSError:
        pass
time.sleep(2)
def f(x):
    return 0
