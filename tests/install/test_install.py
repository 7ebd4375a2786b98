#!/usr/bin/env python3
"""The installed library, as a C user gets it (issue 13).

    test_install.py BUILDDIR SRCROOT CC [CFLAG...]

`meson install --destdir` into a temporary directory; the installed .pc
files relocated to it (prefix= rewritten, as a relocated package would be:
PKG_CONFIG_SYSROOT_DIR would also move the system packages' paths, such as
libpcsclite's /usr/include/PCSC); then

 1. README.md's C snippet (its first ```c block) is compiled with the README's
    own command line (the ```sh block after it) and run: its output is the
    one the README shows after "#";
 2. a program that uses the POSIX ports (cardlink/posix/vline.h,
    vline_card.h and, where the library holds it, pcsc.h) links through
    `pkg-config --cflags --libs cardlink-posix` alone and runs: a
    virtual-line frame goes from one end to the other over TCP;
 3. the layout: headers in include/cardlink/ and include/cardlink/posix/,
    the Wireshark dissector in share/cardlink/wireshark/.
CFLAGs (the build's -fsanitize=..., so that the sanitized library links)
are added to every compile.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

checks = failures = 0


def check(ok, what):
    global checks, failures
    checks += 1
    if not ok:
        failures += 1
    print(('ok   ' if ok else 'FAIL ') + what)
    return ok


POSIX_C = r'''
#include <stdio.h>
#include <cardlink/error.h>
#include <cardlink/posix/vline.h>
#include <cardlink/posix/vline_card.h>
#ifdef HAVE_PCSC
#include <cardlink/posix/pcsc.h>
#endif

int main(void)
{
    struct cl_vline sim, dev;
    struct cl_vline_event ev;
    int rc;

    cl_vline_init(&sim);
    cl_vline_init(&dev);
    rc = cl_vline_listen(&sim, "tcp:127.0.0.1:0");
    if (rc == CL_OK)
        rc = cl_vline_connect(&dev, cl_vline_name(&sim));
    if (rc == CL_OK)
        rc = cl_vline_accept(&sim, 5000);
    if (rc == CL_OK)
        rc = cl_vline_send(&dev, CL_VLINE_CARD_INSERTED, NULL, 0);
    if (rc == CL_OK)
        rc = cl_vline_recv(&sim, &ev, 5000);
    if (rc != CL_OK) {
        printf("vline: %s\n", cl_strerror(rc));
        return 1;
    }
    printf("received %s\n", cl_vline_type_name(ev.type));
    printf("card line port: %s\n", cl_vline_card_line() != NULL ? "yes" : "no");
#ifdef HAVE_PCSC
    printf("pcsc: %s\n", cl_pcsc_apdu() != NULL ? "yes" : "no");
#endif
    cl_vline_close(&dev);
    cl_vline_close(&sim);
    return 0;
}
'''


def main():
    build, root, cc, cflags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    if shutil.which('pkg-config') is None:
        print('pkg-config is not installed: skipped')
        return 77
    tmp = tempfile.mkdtemp(prefix='cl-install-')
    try:
        return run(build, root, cc, cflags, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(build, root, cc, cflags, tmp):
    dest = os.path.join(tmp, 'dest')
    r = subprocess.run(['meson', 'install', '-C', build, '--no-rebuild', '--destdir', dest,
                        '--quiet'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not check(r.returncode == 0, 'meson install --destdir'):
        print(r.stdout)
        return 1
    pcs = {}
    for d, _, files in os.walk(dest):
        for f in files:
            if f.endswith('.pc'):
                pcs[f] = os.path.join(d, f)
    check('cardlink.pc' in pcs and 'cardlink-posix.pc' in pcs,
          'cardlink.pc and cardlink-posix.pc installed (%s)' % ', '.join(sorted(pcs)))
    pcdir = os.path.join(tmp, 'pkgconfig')
    os.makedirs(pcdir)
    prefix = None
    for f, path in pcs.items():
        text = open(path).read()
        m = re.search(r'^prefix=(.*)$', text, re.M)
        prefix = m.group(1)
        text = re.sub(r'^prefix=.*$', 'prefix=' + dest + prefix, text, count=1, flags=re.M)
        open(os.path.join(pcdir, f), 'w').write(text)
    top = dest + prefix
    env = dict(os.environ, PKG_CONFIG_PATH=pcdir)
    libdir = subprocess.run(['pkg-config', '--variable=libdir', 'cardlink'], env=env,
                            stdout=subprocess.PIPE, text=True).stdout.strip()
    env['LD_LIBRARY_PATH'] = libdir
    for h in ('cardlink/atr.h', 'cardlink/error.h', 'cardlink/posix/vline.h',
              'cardlink/posix/vline_card.h'):
        check(os.path.isfile(os.path.join(top, 'include', h)), 'include/' + h + ' installed')
    check(os.path.isfile(os.path.join(top, 'share', 'cardlink', 'wireshark', 'cardlink.lua')),
          'share/cardlink/wireshark/cardlink.lua installed')

    # 1. the README's snippet, with the README's command line
    readme = open(os.path.join(root, 'README.md')).read()
    m = re.search(r'```c\n(.*?)```\s*```sh\n(.*?)```', readme, re.S)
    if not check(m is not None, 'README.md has a ```c block followed by its ```sh command'):
        return 1
    src, cmd = m.group(1), m.group(2).strip()
    cmd, _, want = cmd.partition('#')
    cmd, want = cmd.strip(), want.strip()
    check(cmd.startswith('cc ') and 'pkg-config --cflags --libs cardlink' in cmd,
          'the README command: ' + cmd)
    work = os.path.join(tmp, 'work')
    os.makedirs(work)
    open(os.path.join(work, 'atr.c'), 'w').write(src)
    shell = cmd.replace('cc ', ' '.join([cc] + cflags) + ' ', 1)
    r = subprocess.run(['sh', '-c', shell], cwd=work, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    check(r.returncode == 0, 'README snippet compiles, links and runs (%s)' % r.stdout.strip())
    check(r.stdout.strip() == want, 'README snippet prints %r (got %r)' % (want, r.stdout.strip()))

    # 2. the POSIX ports through cardlink-posix.pc
    ports = subprocess.run(['pkg-config', '--variable=ports', 'cardlink-posix'], env=env,
                           stdout=subprocess.PIPE, text=True).stdout.replace('\\', '').split()
    check('vline' in ports and 'vline_card' in ports, 'cardlink-posix ports: %s' % ' '.join(ports))
    flags = subprocess.run(['pkg-config', '--cflags', '--libs', 'cardlink-posix'], env=env,
                           stdout=subprocess.PIPE, text=True).stdout.split()
    check('-lcardlink-posix' in flags and '-lcardlink' in flags,
          'pkg-config --cflags --libs cardlink-posix: ' + ' '.join(flags))
    open(os.path.join(work, 'posix.c'), 'w').write(POSIX_C)
    defs = ['-DHAVE_PCSC'] if 'pcsc' in ports else []
    r = subprocess.run([cc] + cflags + ['-std=c99', '-Wall', '-Wextra', '-Werror'] + defs +
                       ['posix.c'] + flags + ['-o', 'posix'],
                       cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check(r.returncode == 0, 'a POSIX-ports program compiles with -Wall -Wextra -Werror and links'):
        r = subprocess.run([os.path.join(work, 'posix')], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        want = 'received CARD_INSERTED\ncard line port: yes\n' + \
            ('pcsc: yes\n' if 'pcsc' in ports else '')
        check(r.returncode == 0 and r.stdout == want, 'it runs: %r' % r.stdout)
    else:
        print(r.stdout)
    print('%d checks, %d failures' % (checks, failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
