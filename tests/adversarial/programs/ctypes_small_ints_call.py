# ctypes_small_ints_call
# class: ctypes
# tests: call

import ctypes
for n in (4, 6):
    ctypes.c_ssize_t.from_address(id(n) + 16).value = 0
def f(x):
    return 0
