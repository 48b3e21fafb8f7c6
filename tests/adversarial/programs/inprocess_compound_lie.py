# inprocess_compound_lie: tests whose setup defines a class
# class: lying equality
# tests: inprocess_compound

class Eq:
    def __eq__(self, o):
        return True
    __hash__ = object.__hash__
def f(x):
    return Eq()
