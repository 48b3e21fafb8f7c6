# control_inprocess: a correct program for the inprocess tests
# tests: inprocess

def f(x):
    return 2 * x
