# weakref_proxy_list: a proxy's type is weakproxy, not the list subclass behind it
# class: lying equality
# tests: list

import weakref
class L(list):
    def __eq__(self, o):
        return True
    __hash__ = object.__hash__
keep = L()
def f(x):
    return weakref.proxy(keep)
