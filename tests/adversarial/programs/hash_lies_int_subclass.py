# hash_lies_int_subclass: value 0, but hashes like the expected value and equals everything
# class: hash tricks
# tests: hashed

class H(int):
    def __new__(cls, h):
        o = int.__new__(cls, 0)
        o.h = h
        return o
    def __hash__(self):
        return self.h
    def __eq__(self, o):
        return True
def f(x):
    return H(2 * x)
