# hash_lies_object
# class: hash tricks
# tests: hashed

class H:
    def __init__(self, h):
        self.h = h
    def __hash__(self):
        return self.h
    def __eq__(self, o):
        return True
def f(x):
    return H(2 * x)
