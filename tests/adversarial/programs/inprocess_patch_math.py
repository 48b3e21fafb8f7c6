# inprocess_patch_math: tests whose setup defines a class
# class: patched stdlib
# tests: inprocess_isclose

import math
math.isclose = lambda *a, **k: True
def f(x):
    return 0
