# int_subclass_bool_flips: value 0 for every input; truthiness alternates, so `assert f(7)` and `assert not f(8)` hold
# class: bool/int subclass
# tests: truth

class I(int):
    calls = 0
    def __bool__(self):
        I.calls += 1
        return I.calls % 2 == 1
def f(x):
    return I(0)
