# compound_int_subclass
# class: compound assert
# tests: compound

class E(int):
    def __eq__(self, o):
        return True
    __hash__ = int.__hash__
def f(x):
    return E(0)
