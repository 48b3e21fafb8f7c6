# membership_int_subclass: an int subclass's reflected __eq__ is called before int's own
# class: membership assert
# tests: membership

class E(int):
    def __eq__(self, o):
        return True
    __hash__ = int.__hash__
def f(x):
    return E(0)
