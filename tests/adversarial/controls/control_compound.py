# control_compound: a correct program for the compound tests
# tests: compound

def f(x):
    return 2 * x
