# eq_returns_truthy_object
# class: lying equality
# tests: compound

class Yes:
    def __bool__(self):
        return True
class Eq:
    def __eq__(self, o):
        return Yes()
    __hash__ = object.__hash__
def f(x):
    return Eq()
