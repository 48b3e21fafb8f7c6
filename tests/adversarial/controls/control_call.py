# control_call: a correct program for the call tests
# tests: call

def f(x):
    return 2 * x
