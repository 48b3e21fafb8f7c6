# int_subclass_reflected_eq
# class: bool/int subclass
# tests: reflected

class I(int):
    def __eq__(self, o):
        return True
    def __ne__(self, o):
        return False
    __hash__ = int.__hash__
def f(x):
    return I(0)
