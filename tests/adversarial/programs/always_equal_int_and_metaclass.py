# always_equal_int_and_metaclass
# class: lying equality
# tests: assert
# expect: fail fail,fail

class M(type):
    def __eq__(c, o):
        return True
    __hash__ = type.__hash__
class E(int, metaclass=M):
    def __eq__(s, o):
        return True
    __hash__ = int.__hash__
def f(x):
    return E(0)
