# ne_lies
# class: lying equality
# tests: reflected

class Eq:
    def __eq__(self, o):
        return True
    def __ne__(self, o):
        return False
    __hash__ = object.__hash__
def f(x):
    return Eq()
