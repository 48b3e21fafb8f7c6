# compound_always_equal: only a bare `assert a == b` was rewritten to the strict check
# class: compound assert
# tests: compound

class Eq:
    def __eq__(self, o):
        return True
    __hash__ = object.__hash__
def f(x):
    return Eq()
