# stderr_flood
# class: resources
# tests: assert
# expect: fail fail,fail

import sys
for _ in range(50000):
    sys.stderr.write('e' * 1000)
def f(x):
    return 0
