# control_hashed: a correct program for the hashed tests
# tests: hashed

def f(x):
    return 2 * x
