# SPDX-License-Identifier: MIT
"""Boot vkernel in QEMU for tests: serial console through pipes, QMP over a Unix socket,
screenshots as PPM, exit status through isa-debug-exit. The guest never gets a network
(-nic none) and there is no display (-display none)."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd'
OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd'
IMAGE = os.path.join(ROOT, 'build', 'vkernel.img')


class BootError(Exception):
    pass


def image_copy(workdir, cmdline=None, replace=None, source=None):
    """A private copy of the disk image (or of `source`, another image), with a new kernel
    command line and/or files on the ESP replaced ({'/boot/vkernel.elf': bytes})."""
    path = os.path.join(workdir, 'disk.img')
    subprocess.run(['cp', '--sparse=always', source or IMAGE, path], check=True)
    if cmdline is not None:
        subprocess.run([os.path.join(ROOT, 'scripts', 'image-cmdline.sh'), path, cmdline],
                       check=True)
    for target, data in (replace or {}).items():
        src = os.path.join(workdir, 'replace.bin')
        with open(src, 'wb') as f:
            f.write(data)
        subprocess.run(['mcopy', '-o', '-i', path + '@@1M', src, '::' + target], check=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK='1'))
    return path


class Guest:
    def __init__(self, cmdline=None, smp=1, mem='512M', replace=None, extra=(), image=None):
        if not shutil.which('qemu-system-x86_64'):
            raise BootError('qemu-system-x86_64 not found (scripts/setup-host.sh installs it)')
        self.dir = tempfile.mkdtemp(prefix='vktest.')
        self.image = image_copy(self.dir, cmdline, replace, image)
        vars_copy = os.path.join(self.dir, 'vars.fd')
        shutil.copy(OVMF_VARS, vars_copy)
        self.qmp_path = os.path.join(self.dir, 'qmp.sock')
        args = ['qemu-system-x86_64', '-machine', 'q35', '-m', mem, '-smp', str(smp),
                '-nic', 'none', '-nodefaults', '-no-reboot', '-display', 'none', '-vga', 'std',
                '-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=' + OVMF_CODE,
                '-drive', 'if=pflash,format=raw,unit=1,file=' + vars_copy,
                '-drive', 'if=none,id=d0,format=raw,file=' + self.image,
                '-device', 'virtio-blk-pci,drive=d0',
                '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
                '-serial', 'stdio', '-monitor', 'none',
                '-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path] + list(extra)
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.output = b''
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.qmp = None

    def _read(self):
        while True:
            chunk = self.proc.stdout.read1(4096)
            if not chunk:
                return
            with self.lock:
                self.output += chunk

    def text(self):
        with self.lock:
            return self.output.decode('utf-8', 'replace').replace('\r', '')

    def wait_for(self, pattern, timeout=60):
        """Wait until the serial output matches a regex; returns the match."""
        deadline = time.time() + timeout
        rx = re.compile(pattern)
        while time.time() < deadline:
            m = rx.search(self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the reader drain
                m = rx.search(self.text())
                if m:
                    return m
                raise BootError('QEMU exited (status %s) before %r appeared' %
                                (self.proc.returncode, pattern))
            time.sleep(0.05)
        raise BootError('timed out after %ss waiting for %r' % (timeout, pattern))

    def wait_exit(self, timeout=60):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise BootError('QEMU still running after %ss' % timeout)

    def type(self, text):
        """Type on the serial console, slowly enough for a polling UART reader."""
        for ch in text.encode():
            self.proc.stdin.write(bytes([ch]))
            self.proc.stdin.flush()
            time.sleep(0.01)

    def _qmp_connect(self):
        if self.qmp:
            return
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.qmp_path)
        self.qmp = s.makefile('rw')
        json.loads(self.qmp.readline())  # greeting
        self.command('qmp_capabilities')

    def command(self, name, **arguments):
        self._qmp_connect() if name != 'qmp_capabilities' else None
        self.qmp.write(json.dumps({'execute': name, 'arguments': arguments}) + '\n')
        self.qmp.flush()
        while True:
            reply = json.loads(self.qmp.readline())
            if 'return' in reply:
                return reply['return']
            if 'error' in reply:
                raise BootError('QMP %s: %s' % (name, reply['error']))

    def screenshot(self):
        """The screen as (width, height, rgb bytes)."""
        path = os.path.join(self.dir, 'screen.ppm')
        self.command('screendump', filename=path)
        data = open(path, 'rb').read()
        # P6\n<w> <h>\n255\n<pixels>
        parts = data.split(b'\n', 3)
        w, h = (int(x) for x in parts[1].split())
        return w, h, parts[3]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.qmp:
            self.qmp.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def qemu_exit_status(value):
    """The QEMU exit status for an isa-debug-exit write of `value`."""
    return ((value << 1) | 1) & 0xff
