# mappingproxy_dict_subclass: MappingProxyType is a static C type; its __eq__ delegates to the lying dict
# class: lying equality
# tests: dict

import types
class D(dict):
    def __eq__(self, o):
        return True
    __hash__ = object.__hash__
def f(x):
    return types.MappingProxyType(D())
