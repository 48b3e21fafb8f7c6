# control_reflected: a correct program for the reflected tests
# tests: reflected

def f(x):
    return 2 * x
