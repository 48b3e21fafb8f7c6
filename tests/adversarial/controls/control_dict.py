# control_dict: a correct program for the dict tests
# tests: dict

def f(x):
    return {'a': 2 * x}
