# c_stack_overflow
# class: resources
# tests: assert
# expect: error

import sys, json
sys.setrecursionlimit(10 ** 8)
x = []
for _ in range(10 ** 5):
    x = [x]
json.dumps(x)
def f(x):
    return 0
