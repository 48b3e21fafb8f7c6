# many_files
# class: resources
# tests: assert
# expect: error

i = 0
while True:
    open(f'f{i}', 'w').close()
    i += 1
