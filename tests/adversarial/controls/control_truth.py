# control_truth: a correct program for the truth tests
# tests: truth

def f(x):
    return x % 2 == 1
