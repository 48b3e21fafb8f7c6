# opaque_bool_flips: not data: if truthiness were asked of the program's object, it could answer anything
# class: bool/int subclass
# tests: truth

class B:
    calls = 0
    def __bool__(self):
        B.calls += 1
        return B.calls % 2 == 1
def f(x):
    return B()
