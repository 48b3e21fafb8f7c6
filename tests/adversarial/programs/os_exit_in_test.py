# os_exit_in_test
# class: faking
# tests: assert
# expect: fail error,error

import os
def f(x):
    os._exit(0)
