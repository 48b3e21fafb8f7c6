# sub_returns_zero: abs(candidate(x) - y) < 1e-6 with a __sub__ that returns 0
# class: arithmetic on the result
# tests: humaneval

class S:
    def __sub__(self, o):
        return 0
def f(x):
    return S()
