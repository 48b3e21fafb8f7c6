# control_membership: a correct program for the membership tests
# tests: membership

def f(x):
    return 2 * x
