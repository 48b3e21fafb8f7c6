# close_stdout
# class: faking
# tests: assert
# expect: fail fail,fail

import os, sys
sys.stdout.close()
os.close(1)
os.close(2)
def f(x):
    return 0
