# control_humaneval: a correct program for the humaneval tests
# tests: humaneval

def f(x):
    return 2 * x
