# write_site_pth: a .pth in site-packages runs at every later Python start
# class: write site-packages
# tests: assert

import glob, os, sys
dirs = {SITE_DIR, *glob.glob(os.path.join(sys.prefix, 'lib', 'python3*', 'site-packages'))}
for d in dirs:
    try:
        # harmless if it ever got through: a path line, no code
        open(os.path.join(d, JUNK + '.pth'), 'w').write('/nonexistent-seer-adv\n')
        print('wrote', d)
    except OSError as e:
        print('refused', e)
def f(x):
    return 0
