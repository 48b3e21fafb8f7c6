# control_inprocess_compound: a correct program for the inprocess_compound tests
# tests: inprocess_compound

def f(x):
    return 2 * x
