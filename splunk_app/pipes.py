"""Larger pipe buffers between splunkd and the command (Linux only).

A chunk of 50,000 events is ~100 MB in and as much or more out. Through Linux's default 64 KB
pipes that is thousands of rounds of "buffer full, wake the other side" per chunk; with 512 KB
pipes the command runs ~1.3-1.5 x faster end to end (README, Performance). Any process holding
a pipe may resize it (F_SETPIPE_SZ).

The cost, and why not more: pipe buffers count against the owning user's soft limit,
/proc/sys/fs/pipe-user-pages-soft (16,384 pages = 64 MB by default; root is exempt). Once a user
is at that limit, the kernel gives that user's *new* pipes one page and refuses to enlarge them,
which would slow splunkd itself (it runs as the same user). Two 512 KB pipes per command process
use 1 MB of it: 30 concurrent searches running the command on one host take 30 MB. Set
CTDETECT_PIPE_KB in splunkd's environment (splunk-launch.conf) to change the size, 0 to leave
the pipes alone.
"""
import sys

ENV = "CTDETECT_PIPE_KB"
DEFAULT_KB = 512
MAX_KB = 1024  # the default /proc/sys/fs/pipe-max-size: an unprivileged process may not ask more
F_SETPIPE_SZ = 1031  # fcntl's names for these exist only from Python 3.10 on
F_GETPIPE_SZ = 1032


def pipe_kb(environ):
    """The pipe size asked for, in KB; ValueError naming the valid values for a bad setting."""
    text = environ.get(ENV)
    if text is None or not text.strip():
        return DEFAULT_KB
    try:
        value = int(text.strip())
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_KB:
        raise ValueError("invalid %s=%r; valid values: an integer from 0 (leave the pipes as they are) to %d"
                         % (ENV, text, MAX_KB))
    return value


def widen(streams, kb):
    """Enlarge each stream's pipe to `kb` KB (never shrink one). Anything that is not a Linux
    pipe (a file, a socket, a test's BytesIO) and a refusal by the kernel are left as they are:
    the command works the same, only slower."""
    if kb == 0 or not sys.platform.startswith("linux"):
        return
    import fcntl
    size = kb * 1024
    for stream in streams:
        try:
            descriptor = stream.fileno()
            if fcntl.fcntl(descriptor, F_GETPIPE_SZ) < size:
                fcntl.fcntl(descriptor, F_SETPIPE_SZ, size)
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last two
            pass
