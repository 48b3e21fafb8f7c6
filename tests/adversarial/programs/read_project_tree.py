# read_project_tree
# class: host files
# tests: secret_file

import os
def f():
    try:
        names = os.listdir(PROJECT_DIR)
        print('BREACH project visible', names[:20])
    except OSError as e:
        print('refused', e)
        return None
    for n in names:
        if n.endswith('.jsonl'):
            import json
            return json.loads(open(os.path.join(PROJECT_DIR, n)).readline())['expected_output']
    return None
