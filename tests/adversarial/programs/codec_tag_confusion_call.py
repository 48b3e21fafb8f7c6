# codec_tag_confusion_call: plain dicts that look like the codec's own tags; decoded as tags they
# would be the expected ints
# class: lying equality
# tests: call

def f(x):
    return {'$int': hex(2 * x)} if x == 2 else {'$ref': 0, '$int': '0x6'}
