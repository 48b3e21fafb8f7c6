# huge_file
# class: resources
# tests: assert
# expect: error

with open('big', 'wb') as fh:
    while True:
        fh.write(b'x' * (1 << 20))
