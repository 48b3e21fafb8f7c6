# thread_bomb
# class: resources
# tests: assert
# expect: timeout

import threading, time
while True:
    try:
        threading.Thread(target=time.sleep, args=(100,)).start()
    except Exception:
        pass
