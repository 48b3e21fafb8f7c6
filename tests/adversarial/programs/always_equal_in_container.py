# always_equal_in_container
# class: lying equality
# tests: list
# expect: fail fail,fail

class Eq:
    def __eq__(self, o):
        return True
    __hash__ = object.__hash__
def f(x):
    return [Eq()]
