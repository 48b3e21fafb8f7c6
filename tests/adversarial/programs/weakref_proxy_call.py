# weakref_proxy_call
# class: lying equality
# tests: call

import weakref
class Eq:
    def __eq__(self, o):
        return True
    __hash__ = object.__hash__
keep = Eq()
def f(x):
    return weakref.proxy(keep)
