# sleep
# class: resources
# tests: assert
# expect: timeout

import time
time.sleep(60)
def f(x):
    return 0
