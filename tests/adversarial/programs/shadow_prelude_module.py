# shadow_prelude_module: the tests' imports must be the checker's own, not names in the program's namespace
# class: patched stdlib
# tests: isclose_prelude

class FakeMath:
    def isclose(self, *a, **k):
        return True
math = FakeMath()  # replaces the module the prelude imported into the program's namespace
def f(x):
    return 0
