# control_builtins: a correct program for the builtins tests
# tests: builtins

def f(x):
    return 2 * x
