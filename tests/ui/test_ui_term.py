#!/usr/bin/env python3
# cardlink — the terminal UI (ports/posix/ui_term.c) driven as a person
# would: ui_term_demo runs in a tmux pane; keys go in with send-keys, the
# screen comes back with capture-pane. Checks the framed display line by
# line, that Confirm counts only after every page, the secure indicator on
# the PIN screen alone, that the PIN digits never appear on screen, and
# that the terminal gets its mode back. Exit 77 (skipped) without tmux.
# Usage: test_ui_term.py UI_TERM_DEMO
import os, shutil, subprocess, sys, tempfile, time

demo = os.path.abspath(sys.argv[1])
tmux = shutil.which('tmux')
if tmux is None:
    print('tmux not found: skipped')
    sys.exit(77)

sock = 'cl-ui-%d' % os.getpid()
failures = []
shots = []


def tm(*args, check=True):
    return subprocess.run([tmux, '-L', sock] + list(args), check=check,
                          capture_output=True, text=True).stdout


def screen():
    return tm('capture-pane', '-p', '-t', 'ui').split('\n')


def wait_for(pred, what, timeout=5.0):
    end = time.time() + timeout
    while True:
        lines = screen()
        if pred(lines):
            return lines
        if time.time() > end:
            failures.append('timeout waiting for %s; screen:\n%s' % (what, '\n'.join(lines)))
            return lines
        time.sleep(0.05)


def box(lines):
    """The 4 display rows inside the frame (the first 6 lines of the pane)."""
    return [l[1:21] for l in lines[1:5]]


def expect(lines, rows, led, hint, what):
    got = box(lines)
    if got != rows:
        failures.append('%s: rows %r, want %r' % (what, got, rows))
    if lines[0] != '+' + '-' * 20 + '+' or lines[5] != '+' + '-' * 20 + '+':
        failures.append('%s: frame %r %r' % (what, lines[0], lines[5]))
    if lines[6] != led:
        failures.append('%s: LED line %r, want %r' % (what, lines[6], led))
    if lines[7].rstrip() != hint:
        failures.append('%s: hint %r, want %r' % (what, lines[7], hint))
    shots.append('--- %s\n%s' % (what, '\n'.join(l.rstrip() for l in lines[:8])))


def keys(*k):
    tm('send-keys', '-t', 'ui', *k)


LED_OFF = ' ( ) secure pin entry'
LED_ON = ' (*) SECURE PIN ENTRY'
PIN = '4711'
tmp = tempfile.mkdtemp()
stty_out = os.path.join(tmp, 'stty')
cmd = "%s %s; echo EXIT=$?; stty -a > %s; sleep 60" % (demo, PIN, stty_out)
tm('-f', '/dev/null', 'new-session', '-d', '-s', 'ui', '-x', '60', '-y', '30', cmd)
try:
    # 1: the marked server text
    lines = wait_for(lambda l: l[1].startswith('|> Welcome'), 'the server text')
    expect(lines, ['> Welcome to ACME   ', '> Coffee & more     ', ' ' * 20, ' ' * 20],
           LED_OFF, ' [Enter] OK', 'server text')
    keys('Enter')
    # 2: the transaction, page 1 of 2: no Confirm yet
    lines = wait_for(lambda l: '1/2' in l[1], 'transaction page 1')
    expect(lines, ['ACME Coffee      1/2', 'Pay EUR 12.50       ', '2025-03-14          ',
                   '09:26:53 UTC        '], LED_OFF, ' [Esc] Cancel  page 1/2 [+/-]',
           'transaction page 1/2')
    keys('Enter')   # refused by the pager: every page first
    time.sleep(0.3)
    if box(screen()) != box(lines):
        failures.append('Enter on page 1 changed the screen')
    keys('Down')    # arrow key: an escape sequence
    lines = wait_for(lambda l: '2/2' in l[1], 'transaction page 2')
    expect(lines, ['Ref              2/2', '64656D6F2D74786E2D30', '303030303031        ',
                   ' ' * 20], LED_OFF, ' [Enter] OK  [Esc] Cancel  page 2/2 [+/-]',
           'transaction page 2/2')
    keys('-')
    wait_for(lambda l: '1/2' in l[1], 'page 1 again ("-")')
    keys('+')
    wait_for(lambda l: '2/2' in l[1], 'page 2 again ("+")')
    keys('Enter')
    # 3: the secure PIN entry
    lines = wait_for(lambda l: 'Enter PIN' in l[1], 'the PIN screen')
    expect(lines, ['#Enter PIN          ', '_                   ', ' ' * 20, ' ' * 20],
           LED_ON, ' [Enter] OK  [Esc] Cancel  [Bksp] Clear', 'PIN screen')
    seen = []
    for i, d in enumerate(PIN + '9'):
        keys(d)
        lines = wait_for(lambda l, n=i + 1: l[2].startswith('|' + '*' * n + '_'),
                         '%d stars' % (i + 1))
        seen.append('\n'.join(lines))
    keys('BSpace')   # Clear takes the 9 back
    lines = wait_for(lambda l: l[2].startswith('|****_ '), 'the 9 cleared')
    seen.append('\n'.join(lines))
    expect(lines, ['#Enter PIN          ', '****_               ', ' ' * 20, ' ' * 20],
           LED_ON, ' [Enter] OK  [Esc] Cancel  [Bksp] Clear', 'PIN screen, 4 digits typed')
    # the reverse-video cell is the glyph, not a '#' of some text
    esc = tm('capture-pane', '-p', '-e', '-t', 'ui').split('\n')[1]
    if '\x1b[7m#' not in esc:
        failures.append('glyph not drawn in reverse video: %r' % esc)
    keys('Enter')
    lines = wait_for(lambda l: any(x.startswith('EXIT=') for x in l), 'the demo to end')
    seen.append('\n'.join(lines))
    out = [l.rstrip() for l in lines]
    want = [
        'glyph in server text: refused (-50)',
        'screen SERVER_TEXT 1 shown',
        '  event CONFIRM on screen 1',
        'transaction: 2 pages',
        '  event CONFIRM on screen 2',
        'confirm refused: not every page shown (23)',
        '  event DOWN on screen 2',
        '  event UP on screen 3',
        '  event DOWN on screen 2',
        '  event CONFIRM on screen 3',
        'transaction confirmed',
        '  event PIN on screen 10',
        'PIN: 4 digits, as expected',
        'done',
        'ui_term_demo: end',
        'EXIT=0',
    ]
    i = out.index(want[0]) if want[0] in out else -1
    if out[i:i + len(want)] != want:
        failures.append('demo report:\n%s\nwant:\n%s' % ('\n'.join(out), '\n'.join(want)))
    shots.append('--- after the demo\n' + '\n'.join(out).strip('\n'))
    # the digits never on screen (and 4711 in no other form)
    for s in seen:
        for bad in (PIN, '47119', '4 7 1 1'):
            if bad in s:
                failures.append('PIN digits on screen:\n' + s)
    time.sleep(0.3)
    stty = open(stty_out).read() if os.path.exists(stty_out) else ''
    if ' icanon' not in stty or ' echo ' not in stty:
        failures.append('terminal mode not restored: %r' % stty)
finally:
    tm('kill-server', check=False)

print('\n'.join(shots))
if failures:
    print('FAILED:\n' + '\n'.join(failures))
    sys.exit(1)
print('ui-term: all checks passed')
