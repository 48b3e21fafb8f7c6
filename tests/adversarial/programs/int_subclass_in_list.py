# int_subclass_in_list
# class: bool/int subclass
# tests: list

class I(int):
    def __eq__(self, o):
        return True
    __hash__ = int.__hash__
def f(x):
    return [I(0)]
