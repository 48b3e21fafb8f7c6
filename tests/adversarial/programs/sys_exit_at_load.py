# sys_exit_at_load
# class: faking
# tests: assert
# expect: error

def f(x):
    return 0
import sys
sys.exit(0)
