# redefine_assertion_error
# class: faking
# tests: assert
# expect: fail fail,fail

import builtins
class AssertionError(Exception):
    pass
builtins.AssertionError = AssertionError
def f(x):
    return 0
