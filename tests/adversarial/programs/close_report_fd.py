# close_report_fd
# class: faking
# tests: assert
# expect: error

import os
for fd in range(3, 64):
    try:
        os.close(fd)
    except OSError:
        pass
def f(x):
    return 0
