#!/usr/bin/env python3
"""--help and --version of the programs (issue 13): usage on stdout and exit
0; --version prints "NAME VERSION"; a usage error prints the usage on stderr
(nothing on stdout) and exits 2.

    test_help.py VERSION SRCROOT PROGRAM...

A PROGRAM ending in .sh runs under sh (examples/demo.sh: --help and
--version must answer before the script installs or builds anything).
"""
import os
import subprocess
import sys

checks = failures = 0


def check(ok, what):
    global checks, failures
    checks += 1
    if not ok:
        failures += 1
        print('FAIL: ' + what)


def run(cmd, cwd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          cwd=cwd, timeout=30)


def main():
    version, root = sys.argv[1], sys.argv[2]
    progs = [os.path.abspath(p) for p in sys.argv[3:]]
    for prog in progs:
        if prog.endswith('.sh'):
            cmd, name = ['sh', prog], 'cardlink demo'
            usage = 'usage: sh examples/demo.sh'
        else:
            cmd, name = [prog], os.path.basename(prog)
            usage = 'usage: ' + name
        r = run(cmd + ['--help'], root)
        check(r.returncode == 0, '%s --help: exit %d' % (name, r.returncode))
        check(r.stdout.startswith(usage), '%s --help: stdout %r' % (name, r.stdout[:60]))
        check('--help' in r.stdout and '--version' in r.stdout,
              '%s --help: the usage names --help and --version' % name)
        check(r.stderr == '', '%s --help: stderr %r' % (name, r.stderr[:60]))
        r = run(cmd + ['--version'], root)
        check(r.returncode == 0, '%s --version: exit %d' % (name, r.returncode))
        check(r.stdout == '%s %s\n' % (name, version), '%s --version: %r' % (name, r.stdout))
        check(r.stderr == '', '%s --version: stderr %r' % (name, r.stderr[:60]))
        r = run(cmd + ['--no-such-option'], root)
        check(r.returncode == 2, '%s --no-such-option: exit %d' % (name, r.returncode))
        check(r.stdout == '', '%s --no-such-option: stdout %r' % (name, r.stdout[:60]))
        check(usage in r.stderr, '%s --no-such-option: stderr %r' % (name, r.stderr[:60]))
    print('%d checks, %d failures' % (checks, failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
