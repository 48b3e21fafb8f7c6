# control_assert: a correct program for the assert tests
# tests: assert

def f(x):
    return 2 * x
