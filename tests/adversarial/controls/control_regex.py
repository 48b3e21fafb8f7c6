# control_regex: uses re itself
# tests: regex

import re
def f(x):
    return re.sub('x', str(2 * x), 'x')
