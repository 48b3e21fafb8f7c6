# ctypes_true_is_false
# class: ctypes
# tests: truth

import ctypes
ctypes.c_ssize_t.from_address(id(False) + 16).value = 1  # False now reads as 1 (truthy)
ctypes.c_uint32.from_address(id(False) + 24).value = 1
def f(x):
    return False if x == 7 else 0  # wrong for 7 (odd), right for 8
