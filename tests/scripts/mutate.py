#!/usr/bin/env python3
"""cardlink — how many small faults the suites catch (issue 11 §7).

Puts one fault at a time into a source file (a relational, logical or
arithmetic operator swapped, true/false, a `!` dropped, a constant + 1, an
expression statement deleted), rebuilds only the named ninja targets and
runs the named meson tests. Each fault is killed (a test failed or timed
out), survived, or invalid (did not compile); OUT.json keeps them all and a
second run with the same OUT.json does only what is missing. Run it in a
clone of its own (it rewrites FILE; Ctrl-C restores it; a SIGKILL does
not: `git checkout FILE`), configured without sanitizers for speed:
  git clone -q . /tmp/mut && cd /tmp/mut && meson setup build -Dtests=enabled
  python3 tests/scripts/mutate.py /tmp/mut lib/relay/relay_session.c /tmp/rs.json \
      --targets tests/relay/test_session --tests relay_session
With two cores, two clones split one file: --shard 0/2 in one, --shard 1/2
in the other (the same --seed), each writing its own OUT.json. --lines
A-B,C-D keeps the faults of those lines only (a file whose tests are slow:
measure the functions that matter).
Survivors need reading: some change nothing anyone can observe (an
assignment another path repeats), the others are the tests to write.
"""
import argparse, json, os, random, re, subprocess, sys, time

OPS = [
    (r"==", "!="), (r"!=", "=="),
    (r"(?<![<>=!])<(?![<=])", "<="), (r"<=", "<"),
    (r"(?<![<>=!-])>(?![>=])", ">="), (r">=", ">"),
    (r"&&", "||"), (r"\|\|", "&&"),
    (r"(?<![+])\+(?![+=])", "-"), (r"(?<![-])-(?![->=])", "+"),
    (r"\+\+", "--"),
    (r"\btrue\b", "false"), (r"\bfalse\b", "true"),
    (r"(?<![!=])!(?!=)", ""),
    (r"\b(\d+)u?\b", None),   # constant + 1
]


def code_lines(src):
    """(index, line) of lines that are code: not comments, not preprocessor,
    inside a function body (indented)."""
    out, in_comment = [], False
    for i, l in enumerate(src):
        s = l.strip()
        if in_comment:
            if "*/" in s:
                in_comment = False
            continue
        if s.startswith("/*"):
            if "*/" not in s:
                in_comment = True
            continue
        if s.startswith("*") or s.startswith("#") or s.startswith("//") or not s:
            continue
        if not l.startswith("    "):
            continue
        out.append(i)
    return out


def strip_comment(l):
    j = l.find("/*")
    return (l[:j], l[j:]) if j >= 0 else (l, "")


def mutants(src):
    res = []
    for i in code_lines(src):
        code, com = strip_comment(src[i])
        # operators
        for pat, rep in OPS:
            for m in re.finditer(pat, code):
                if rep is None:
                    n = int(m.group(1))
                    new = code[:m.start()] + str(n + 1) + code[m.end():]
                else:
                    # skip '->' and '-' in negative error codes? keep all
                    new = code[:m.start()] + rep + code[m.end():]
                if new != code:
                    res.append((i, new + com, "%s@%d" % (pat if rep is not None else "const+1", m.start())))
        # statement deletion: an expression statement
        s = code.strip()
        if s.endswith(";") and not s.startswith(("return", "const ", "static ", "struct ", "uint",
                                                  "int ", "size_t", "bool ", "unsigned", "enum ",
                                                  "break", "continue", "}", "else", "case", "default")):
            ind = code[:len(code) - len(code.lstrip())]
            res.append((i, ind + ";" + com, "delete"))
    return res


def reap(build):
    """Kill what a fault left running from the build tree: programs started
    by absolute path, and those a test script started by a relative one
    (their working directory is in the build tree)."""
    subprocess.run(["pkill", "-9", "-f", "^" + build + "/"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            continue
        if cwd == build or cwd.startswith(build + "/"):
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo"); ap.add_argument("file"); ap.add_argument("out")
    ap.add_argument("--targets", required=True); ap.add_argument("--tests", required=True)
    ap.add_argument("--max", type=int, default=0); ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--shard", default="0/1",
                    help="K/N: only every N-th fault from the K-th (one clone per core)")
    ap.add_argument("--lines", default="",
                    help="A-B[,C-D]: only faults on these lines (1-based, inclusive)")
    a = ap.parse_args()
    a.repo = os.path.abspath(a.repo)
    path = os.path.join(a.repo, a.file)
    orig = open(path).read()
    src = orig.split("\n")
    ms = mutants(src)
    if a.lines:
        spans = [tuple(int(v) for v in r.split("-")) for r in a.lines.split(",")]
        ms = [m for m in ms if any(lo <= m[0] + 1 <= hi for lo, hi in spans)]
    random.Random(a.seed).shuffle(ms)
    if a.max:
        ms = ms[:a.max]
    k, n = (int(x) for x in a.shard.split("/"))
    ms = ms[k::n]
    targets = a.targets.split(","); tests = a.tests.split(",")
    results = json.load(open(a.out)) if os.path.exists(a.out) else []
    done = {(x["line"], x["new"]) for x in results}
    ms = [m for m in ms if (m[0] + 1, m[1].strip()) not in done]
    t0 = time.time()
    try:
        for k, (i, new, op) in enumerate(ms):
            mod = list(src); mod[i] = new
            open(path, "w").write("\n".join(mod))
            b = subprocess.run(["ninja", "-C", os.path.join(a.repo, "build")] + targets,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if b.returncode != 0:
                st = "invalid"
            else:
                p = subprocess.Popen(["meson", "test", "-C", os.path.join(a.repo, "build"),
                                      "--no-rebuild", "-t", "0.2"] + tests,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
                try:
                    st = "killed" if p.wait(timeout=40) != 0 else "survived"
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, 9)
                    p.wait()
                    st = "killed"
                # meson starts each test in a session of its own: a test
                # looping for ever outlives the kill above
                reap(os.path.join(a.repo, "build"))
            results.append({"line": i + 1, "op": op, "orig": src[i].strip(), "new": new.strip(), "status": st})
            if k % 10 == 0:
                c = {s: sum(1 for x in results if x["status"] == s) for s in ("killed", "survived", "invalid")}
                print("%d/%d %s %.0fs" % (k + 1, len(ms), c, time.time() - t0), flush=True)
            json.dump(results, open(a.out, "w"), indent=1)
    finally:
        open(path, "w").write(orig)
        subprocess.run(["ninja", "-C", os.path.join(a.repo, "build")] + targets,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = {s: sum(1 for x in results if x["status"] == s) for s in ("killed", "survived", "invalid")}
    valid = c["killed"] + c["survived"]
    print("done", c, "kill rate %.1f%%" % (100.0 * c["killed"] / valid if valid else 0))


if __name__ == "__main__":
    main()
