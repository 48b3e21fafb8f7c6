# always_equal_call
# class: lying equality
# tests: call
# expect: fail fail,fail

class Eq(int):
    def __eq__(self, o):
        return True
    __hash__ = int.__hash__
def f(x):
    return Eq(0)
