# inprocess_ctypes_small_ints: tests whose setup defines a class
# class: ctypes
# tests: inprocess

import ctypes
for n in (4, 6):
    ctypes.c_ssize_t.from_address(id(n) + 16).value = 0
def f(x):
    return 0
