# control_isclose_prelude: math imported by the tests' prelude
# tests: isclose_prelude

def f(x):
    return math.sqrt(4.0) * x
