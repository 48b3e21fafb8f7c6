# mappingproxy_call
# class: lying equality
# tests: call

import types
class D(dict):
    def __eq__(self, o):
        return True
def f(x):
    return types.MappingProxyType(D(a=0))
