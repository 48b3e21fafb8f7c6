# control_stdio: a correct script
# tests: stdio

a, b = map(int, input().split())
print(a + b)
