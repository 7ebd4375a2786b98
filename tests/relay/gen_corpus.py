#!/usr/bin/env python3
"""Write the relay fuzz seed corpora from docs/protocol.md's hex examples.

    python3 tests/relay/gen_corpus.py      (from the source root)

fuzz/corpus/relay_msg/: one message per file (the valid examples and a few
invalid ones). fuzz/corpus/relay_stream/: two configuration bytes (buffer
size code, chunking seed) followed by several messages back to back.
"""
import os
import re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')


def blocks():
    text = open(os.path.join(ROOT, 'docs', 'protocol.md')).read()
    for m in re.finditer(r'```hex ([^\n]*)\n(.*?)```', text, re.S):
        attrs = dict(a.split('=', 1) for a in m.group(1).split())
        hexs = ''.join(line.split('#')[0] for line in m.group(2).splitlines())
        yield attrs, bytes.fromhex(hexs.replace(' ', ''))


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def main():
    valid = {}
    invalid = {}
    for attrs, data in blocks():
        if 'example' in attrs:
            valid[attrs['example']] = data
        else:
            invalid[attrs['invalid']] = data
    mdir = os.path.join(ROOT, 'fuzz', 'corpus', 'relay_msg')
    skip = {'pin-verify-result-wrong', 'txn-result-declined', 'close', 'display-timed',
            'hello-ack-resumed', 'prompt-answer-no', 'card-reset-result-mute',
            'script-result-error', 'replayed-apdu-response', 'actuate-result-replayed'}
    for name, data in valid.items():
        if name not in skip:
            write(mdir, name, data)
    for name in ('bad-unknown-critical', 'bad-duplicate', 'bad-mask', 'bad-pin-ins'):
        if name in invalid:   # bad-pin-ins left the document; its seed stays
            write(mdir, name, invalid[name])
    sdir = os.path.join(ROOT, 'fuzz', 'corpus', 'relay_stream')
    v = valid
    seqs = {
        'session': [v['hello'], v['hello-ack'], v['reader-status'], v['card-inserted'],
                    v['apdu'], v['apdu-response'], v['close']],
        'script': [v['script'], v['script-result'], v['keepalive']],
        'pin': [v['pin-verify'], v['pin-verify-result'], v['pin-change'], v['pin-change-result']],
        'txn': [v['txn-approve'], v['txn-result'], v['display'], v['display-done']],
        'resume': [v['hello-resume'], v['hello-ack-resumed'], v['replayed-apdu-response']],
        'prompt': [v['prompt-yesno'], v['prompt-answer-no'], v['prompt-numeric'], v['prompt-answer']],
        'gate': [v['actuate'], v['actuate-result'], v['actuate'], v['actuate-result-replayed']],
    }
    for name, msgs in seqs.items():
        body = b''.join(msgs)
        write(sdir, name + '-whole', bytes([0xFF, 0]) + body)
        write(sdir, name + '-chunks', bytes([0xFF, 7]) + body)
    write(sdir, 'small-buffer', bytes([4, 3]) + v['hello'] + v['keepalive'])
    write(sdir, 'tight-buffer', bytes([(len(v['apdu']) - 8) // 4 + 1, 1]) + v['apdu'] + v['apdu'])
    write(sdir, 'garbage-after', bytes([0xFF, 5]) + v['keepalive'] + b'GET / HTTP/1.0\r\n')
    write(sdir, 'reserved-flags', bytes([0xFF, 0]) + v['keepalive'] + invalid['bad-flags'])
    write(sdir, 'version-2', bytes([0xFF, 2]) + v['card-removed'] + invalid['bad-version'])
    write(sdir, 'partial', bytes([0xFF, 9]) + v['script'][:20])


if __name__ == '__main__':
    main()
