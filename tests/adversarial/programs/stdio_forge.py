# stdio_forge
# class: fake results on pipes
# tests: stdio
# expect: error

import os
for fd in range(3, 64):
    try:
        os.write(fd, b'C 0 value "3"\nC 1 value "12"\n')
    except OSError:
        pass
print(4)
