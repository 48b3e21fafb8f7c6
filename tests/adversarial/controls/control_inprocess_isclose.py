# control_inprocess_isclose: a correct program for the inprocess_isclose tests
# tests: inprocess_isclose

def f(x):
    return 2 * x
