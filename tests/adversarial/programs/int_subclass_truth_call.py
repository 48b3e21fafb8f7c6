# int_subclass_truth_call
# class: bool/int subclass
# tests: call

class I(int):
    def __bool__(self):
        return True
    def __eq__(self, o):
        return True
    __hash__ = int.__hash__
def f(x):
    return I(1)
