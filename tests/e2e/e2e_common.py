"""Helpers shared by the end-to-end scripts (tests/e2e/test_e2e*.py) and the
PC/SC ones (tests/pcsc/test_pcsc*.py): checks and their tally, programs
started with their output in a file and stopped at the end, waiting for a
line, free ports and a private pcscd, the test card's personalisation, the
scripted holder's approval and the PIN-in-logs search. Each script keeps its
own scenario.

The e2e scripts import it from their own directory, the PC/SC ones from
../e2e; both set sys.dont_write_bytecode first (no __pycache__ in the tree).
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

PIN = "7391"          # the test card's PIN (cardlink-perso --pin)

procs = []            # every program start() started; stop_all() stops them
failures = []         # the names of the checks that failed
checks = 0            # how many checks ran


# ------------------------------------------------------------ checks

def check(cond, what, detail=""):
    """Count a check, print "ok   WHAT" or "FAIL WHAT" (then DETAIL, if
    any) and remember a failure; return cond."""
    global checks
    checks += 1
    if cond:
        print("ok   " + what)
    else:
        print("FAIL " + what + (("\n" + str(detail)) if detail else ""))
        failures.append(what)
    return cond


def clean_work(work, keep=False):
    """Remove the work directory, unless a check failed (or keep): then
    say where it is."""
    if not failures and not keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work directory kept: " + work)


def exit_summary():
    """Print "N checks, M failed" and exit 1 if any failed, else 0."""
    print("%d checks, %d failed" % (checks, len(failures)))
    sys.exit(1 if failures else 0)


# ---------------------------------------------------------- programs

def run(args, timeout=120, **kw):
    """Run a program to its end: its stdout and stderr together, as text."""
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, **kw)


def start(args, outfile, mode="w+"):
    """Start a program with its output (stdout and stderr) to outfile,
    opened with mode; return (process, file). stop_all() stops it."""
    f = open(outfile, mode)
    p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, text=True)
    procs.append(p)
    return p, f


def stop(p):
    """Terminate p (SIGKILL after 10 s), wait for it; return its exit code."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def stop_all():
    """stop() every program start() started."""
    for p in procs:
        stop(p)


def wait_or_stop(p, timeout):
    """Wait up to timeout seconds for p to end, then terminate it."""
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.terminate()
        p.wait(timeout=10)


def read(path):
    """The whole text of a file."""
    with open(path) as f:
        return f.read()


def find_line(path, pattern, proc, timeout, start_at=0, interval=0.05):
    """Wait until the file at path has a line (from offset start_at) that
    matches pattern, or proc (if not None) ended, or timeout seconds went
    by; return the match or None."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        with open(path) as f:
            f.seek(start_at)
            for line in f:
                m = re.search(pattern, line)
                if m:
                    return m
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(interval)
    return None


def first_line(path, pattern, proc, timeout=20):
    """Wait until file path has a line matching pattern; return the match
    (the script exits saying what proc printed if none comes)."""
    m = find_line(path, pattern, proc, timeout)
    if m is None:
        sys.exit("no '%s' from %s: %s" % (pattern, proc.args[0], read(path)))
    return m


def free_port_pair():
    """Two consecutive free TCP ports (vpcd opens PORT and PORT+1)."""
    for _ in range(50):
        s = socket.socket()
        s.bind(("", 0))
        port = s.getsockname()[1]
        s.close()
        if port >= 65535:
            continue
        ok = True
        for p in (port, port + 1):
            t = socket.socket()
            try:
                t.bind(("", p))
            except OSError:
                ok = False
            t.close()
        if ok:
            return port
    raise RuntimeError("no free port pair")


def spawn_pcscd(work, sock, port, driver, pcscd="pcscd"):
    """pcscd -f on a private socket (systemd socket activation: fd 3,
    LISTEN_FDS=1, LISTEN_PID its own pid) and a private reader.conf in work
    that loads the vpcd driver on port; its output to work/pcscd.log.
    Return the process (the caller stops it)."""
    conf = os.path.join(work, "reader.conf.d")
    os.mkdir(conf)
    with open(os.path.join(conf, "vpcd"), "w") as f:
        f.write(f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x{port:04X}\n'
                f"LIBPATH {driver}\nCHANNELID 0x{port:04X}\n")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(sock)
    lsock.listen(16)
    fd = lsock.fileno()
    log = open(os.path.join(work, "pcscd.log"), "w")
    p = subprocess.Popen(["sh", "-c", f"exec 3<&{fd}; LISTEN_PID=$$ LISTEN_FDS=1 "
                          f"exec {pcscd} --foreground --debug --apdu --config {conf}"],
                         pass_fds=(fd,), stdout=log, stderr=subprocess.STDOUT)
    lsock.close()
    return p


def pyscard_python():
    """An interpreter that imports smartcard (pyscard; Debian's python3 if
    the one running us lacks it), or None."""
    for py in (sys.executable, "/usr/bin/python3"):
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import smartcard.System"], capture_output=True).returncode == 0:
            return py
    return None


# ---------------------------------------------------- card and holder

def perso_args(perso, pki, img, pin, balance):
    """cardlink-perso's command line for the test card: image img, both
    keys and certificates of the test PKI in pki, the PIN, a purse."""
    def p(name):
        return os.path.join(pki, name)
    return [perso, "--out", img, "--pin", pin, "--card-key", p("card.key.der"),
            "--card-cert", p("card.der"), "--sign-key", p("card-sign.key.der"),
            "--sign-cert", p("card-sign.der"), "--issuer-cert", p("issuer.der"),
            "--root-cert", p("root.der"), "--issuer-pub", p("issuer.der"),
            "--balance", balance]


def approve(pages=2, pin=PIN):
    """The holder's steps for a transaction of PAGES pages, then the PIN
    (none if pin is None)."""
    s = ""
    for i in range(1, pages):
        s += "wait-screen TXN %d/%d\npage-down\n" % (i, pages)
    s += "wait-screen TXN %d/%d\nexpect-confirm yes\nconfirm\n" % (pages, pages)
    if pin is not None:
        s += "wait-screen PIN\npin %s\n" % pin
    return s


# ------------------------------------------------------ PIN in logs

def pin_alone(pin, text):
    """The PIN as a number of its own in text (not inside a longer number
    or hex run: a port, an id, a fingerprint); the match or None."""
    return re.search(r"(?<![0-9A-Fa-f])" + pin + r"(?![0-9A-Fa-f])", text)


def hex_runs(text):
    """Every run of 8 or more hex digits in text, joined, upper case."""
    return "".join(re.findall(r"[0-9A-Fa-f]{8,}", text)).upper()


def ascii_hex(pin):
    """The PIN's characters as hex bytes ("7391" -> "37333931")."""
    return "".join("%02X" % ord(c) for c in pin)


def relay_stream(traces):
    """The hex of the device's --trace files (texts), joined."""
    return "".join(l[2:].strip() for tr in traces for l in tr.splitlines())


def pin_in_stream(pin, stream):
    """The PIN's encodings found in a relay stream: ASCII, in a VERIFY block
    (24 PIN FF / 04 PIN FF) or padded (PIN FFFF); [] if none."""
    bcd = pin.upper()
    return [pat for pat in (ascii_hex(pin), "24" + bcd + "FF", "04" + bcd + "FF", bcd + "FFFF")
            if pat in stream]
