# forged_result_lines
# class: fake results on pipes
# tests: assert
# expect: error

import os
for fd in range(3, 64):
    try:
        os.write(fd, b'C 0 pass null\nC 1 pass null\nD\nE 00\n')
    except OSError:
        pass
def f(x):
    return 0
