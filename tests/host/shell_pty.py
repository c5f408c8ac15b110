#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Host test of the vkernel shell (userspace/shell): runs the static musl shell.vbin on
Linux under a pseudo-terminal, types keys as a VT100/xterm terminal sends them, and
checks what comes back. vk_api is absent on Linux, so the KObj commands must fail with
their one-line error. Prints PASS/FAIL per check and 'N passed, N failed'.
Usage: shell_pty.py [path/to/shell.vbin]"""
import fcntl
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import termios
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHELL = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'build/userspace/bin/shell.vbin'))
PROMPT = re.compile(rb'\nvk:[^\r\n$]*\$ ')
results = []


def check(name, ok, detail=''):
    results.append(bool(ok))
    print('%s %s%s' % ('PASS' if ok else 'FAIL', name, '' if ok else ': ' + repr(detail)[-300:]), flush=True)


class Pty:
    def __init__(self, env):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([SHELL], stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, cwd=env['HOME'],
                                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.buf = b''

    def read_until(self, pattern, timeout=5):
        """Output up to and including the first match of pattern after what was consumed."""
        rx = re.compile(pattern) if isinstance(pattern, bytes) else pattern
        end = time.time() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                out, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return out
            left = end - time.time()
            if left <= 0:
                raise TimeoutError('waiting for %r; got %r' % (rx.pattern, self.buf[-400:]))
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b''
                if not data:
                    raise TimeoutError('shell ended; got %r' % self.buf[-400:])
                self.buf += data

    def type(self, keys):
        os.write(self.master, keys)
        time.sleep(0.05)

    def command(self, keys, timeout=5):
        """Types keys (ending in Enter) and returns the output up to the next prompt."""
        self.type(keys)
        return self.read_until(PROMPT, timeout)


def body(out):
    """A command's output without the echoed command line."""
    return out.split(b'\n', 1)[1] if b'\n' in out else b''


def main():
    if not os.path.exists(SHELL):
        check('shell_pty.binary_exists', False, SHELL)
        return
    tmp = tempfile.mkdtemp(prefix='vkshell-')
    bindir = os.path.join(tmp, 'bin')
    os.mkdir(bindir)
    prog = os.path.join(bindir, 'greet.vbin')
    with open(prog, 'w') as f:
        f.write('#!/bin/sh\necho "greet-ran $1 $GREETING"\n')
    os.chmod(prog, 0o755)
    with open(os.path.join(tmp, 'completeme_unique.txt'), 'w') as f:
        f.write('completed-file-contents\n')
    env = {'PATH': bindir + ':/bin:/usr/bin', 'HOME': tmp, 'TERM': 'xterm'}

    t = Pty(env)
    try:
        t.read_until(PROMPT)
        check('prompt_shown', True)
        out = t.command(b'echo hello "quoted  words" \'$HOME\' $HOME\r')
        check('echo_quotes_vars', b'hello quoted  words $HOME ' + tmp.encode() in out, out)
        out = t.command(b'echo wrld\x1b[D\x1b[D\x1b[Do\r')
        check('left_arrow_insert', b'\nworld' in out.replace(b'\r', b''), out)
        out = t.command(b'cho hi\x1b[He\x1b[F there\r')
        check('home_end_csi', re.search(rb'\nhi there\r?\n', out.replace(b'\r', b'')), out)
        out = t.command(b'cho one\x01e\x05 two\r')
        check('ctrl_a_ctrl_e', b'\none two\n' in out.replace(b'\r', b''), out)
        out = t.command(b'cho three\x1bOHe\x1bOF four\x1b[1~\x1b[4~\r')
        check('home_end_ss3_and_tilde', b'\nthree four\n' in out.replace(b'\r', b''), out)
        out = t.command(b'echo abcx\x7f\r')
        check('backspace', b'\nabc\n' in out.replace(b'\r', b''), out)
        out = t.command(b'echo abxc\x1b[D\x1b[D\x1b[3~\r')
        check('delete_key', b'\nabc\n' in out.replace(b'\r', b''), out)
        out = t.command(b'\x1b[A\r')
        check('history_up_recalls_last', b'\nabc\n' in out.replace(b'\r', b''), out)
        out = t.command(b'\x1b[A\x1b[A\x1b[A\x1b[B\r')
        check('history_up_up_down', b'\nthree four\n' in out.replace(b'\r', b''), out)
        out = t.command(b'echo nope\x03')
        check('ctrl_c_abandons_line', b'^C' in out and b'\nnope' not in out.replace(b'\r', b''), out)
        out = t.command(b'ech\t tabbed\r')
        check('tab_completes_builtin', b'\ntabbed\n' in out.replace(b'\r', b''), out)
        out = t.command(b'gree\t tab-prog\r')
        check('tab_completes_program_without_vbin', b'greet-ran tab-prog' in out, out)
        out = t.command(b'cat complete\t\r')
        check('tab_completes_path', b'completed-file-contents' in out, out)
        out = t.command(b'\x0cecho cleared\r')
        check('ctrl_l_clears', b'\x1b[2J' in out and b'\ncleared' in out.replace(b'\r', b''), out)
        out = t.command(b'GREETING=hi greet arg\r')
        check('program_on_path_vbin_with_env', b'greet-ran arg hi' in out, out)
        out = t.command(b'nosuchcmd; echo status=$?\r')
        check('unknown_command_127', b'shell: nosuchcmd: command not found' in out and b'status=127' in out, out)
        out = t.command(b'echo a |; echo status=$?\r')
        check('syntax_error', b'syntax error' in out, out)
        out = t.command(b'echo $?\r')
        check('syntax_error_status_2', re.search(rb'\n2\r?\n', out), out)
        out = t.command(b'echo one > f.txt && echo two >> f.txt; cat < f.txt | wc -l\r')
        check('redirect_append_pipe', re.search(rb'\n2\r?\n', out), out)
        out = t.command(b'false || echo or-ran; true && echo and-ran; false && echo never\r')
        check('and_or', b'or-ran' in out and b'and-ran' in out and b'never' not in body(out), out)
        out = t.command(b'X=1; export Y=2; env | grep -c "^[XY]="; echo ${X}$Y\r')
        check('assign_export_env', re.search(rb'\n1\r?\n12\r?\n', out), out)
        out = t.command(b'ls nosuch_q 2>&1 | wc -l; cat nosuch_q 2> err.txt; cat err.txt\r')
        check('stderr_redirection', re.search(rb'\n1\r?\n', out) and b'cat: nosuch_q' in out, out)
        out = t.command(b'mem; echo status=$?\r')
        check('kobj_command_clear_error', b'mem: no KObj RPC here' in out and b'status=1' in out, out)
        out = t.command(b'mkdir d; cp f.txt d; mv d/f.txt d/g.txt; head -n 1 d/g.txt; tail -n 1 d/g.txt; rm d/g.txt; rm -d d; ls\r')
        check('file_builtins', re.search(rb'\none\r?\ntwo\r?\n', out) and b'd/' not in body(out), out)
        out = t.command(b'cd d_missing; pwd\r')
        check('cd_error', b'cd: d_missing:' in out and tmp.encode() in out, out)
        out = t.command(b'alloc\r', timeout=20)
        check('alloc_verified', re.search(rb'alloc: \d+ allocations, \d+ bytes, 0 bad bytes: ok', out), out)
        out = t.command(b'history\r')
        check('history_lists', b'echo hello' in out and b'alloc' in out, out)
        # Ctrl-C stops a foreground program: a real tty sends SIGINT to its group.
        start = time.time()
        t.type(b'sleep 5\r')
        time.sleep(0.5)
        t.type(b'\x03')
        out = t.read_until(PROMPT, timeout=4)
        check('ctrl_c_stops_program', time.time() - start < 3, out)
        out = t.command(b'echo $?\r')
        check('ctrl_c_status_130', b'130' in out, out)
        t.type(b'\x04')
        t.proc.wait(timeout=5)
        check('ctrl_d_exits', t.proc.returncode == 0, t.proc.returncode)
        attrs = termios.tcgetattr(t.master)
        check('terminal_restored', attrs[3] & termios.ECHO and attrs[3] & termios.ICANON, attrs[3])
    except TimeoutError as e:
        check('shell_pty.harness', False, str(e))
    finally:
        if t.proc.poll() is None:
            t.proc.kill()
        os.close(t.master)

    # Not a terminal: lines read plainly, -c, script files.
    r = subprocess.run([SHELL], input=b'echo piped\necho x | wc -c\nexit 3\necho not-here\n',
                       capture_output=True, env=env, cwd=tmp, timeout=10)
    check('stdin_not_a_tty', r.stdout == b'piped\n2\n' and r.returncode == 3, r)
    r = subprocess.run([SHELL, '-c', 'echo c-flag; nosuch'], capture_output=True, env=env, timeout=10)
    check('dash_c', r.stdout == b'c-flag\n' and r.returncode == 127 and
          r.stderr == b'shell: nosuch: command not found\n', r)
    script = os.path.join(tmp, 'script.sh')
    with open(script, 'w') as f:
        f.write('# comment\nA=script\necho "from $A" # trailing comment\nexit 4\n')
    r = subprocess.run([SHELL, script], capture_output=True, env=env, timeout=10)
    check('script_file', r.stdout == b'from script\n' and r.returncode == 4, r)
    subprocess.run(['rm', '-rf', tmp])


if __name__ == '__main__':
    main()
    passed = sum(results)
    print('shell_pty: %d passed, %d failed' % (passed, len(results) - passed))
    sys.exit(0 if passed == len(results) else 1)
