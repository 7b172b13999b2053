"""The ``| cloudtraildetect`` command loop over protocol v2.

getinfo: parse the options, build the engine once, answer ``{"type": "streaming"}`` (plus any
inspector notes). Each execute: hand the CSV body to the engine and answer exactly one message
``{"finished": <the request's flag>}`` with the engine's CSV. Any failure is answered with an
ERROR inspector message and ``"finished": true``, and the process exits non-zero.

Only the protocol, option and pipe modules are imported up front; the engine is imported when the
options are valid. splunkd starts one of these processes per search and per indexer.
"""
import os
import sys

from splunk_app import pipes
from splunk_app.options import COMMAND, OptionError, parse_args
from splunk_app.protocol import BodyBuffer, ProtocolError, encode_header, read_chunk, write_chunk


class ChunkError(Exception):
    """The engine rejected one execute chunk; the message says which and why."""


def error_reply(message):
    return {"finished": True, "inspector": {"messages": [["ERROR", "%s: %s" % (COMMAND, message)]]}}


def _report(stdout, stderr, message):
    """Send the ERROR reply (best effort: splunkd may be gone) and log to stderr."""
    try:
        stderr.write("%s: ERROR %s\n" % (COMMAND, message))
        stderr.flush()
    except Exception:
        pass
    try:
        write_chunk(stdout, error_reply(message))
    except Exception:
        _discard_output(stdout)


def _discard_output(stdout):
    """After a broken pipe, point stdout at devnull so interpreter shutdown does not fail
    flushing what is left in its buffer."""
    try:
        import os
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
    except Exception:
        pass


def _start(stdin, stdout):
    """Handle getinfo. Returns (engine, options), or None when the input is empty."""
    chunk = read_chunk(stdin)
    if chunk is None:
        return None
    metadata, _body = chunk
    action = metadata.get("action")
    if action != "getinfo":
        raise ProtocolError("expected a getinfo message first, got action %r" % (action,))
    searchinfo = metadata.get("searchinfo")
    if not isinstance(searchinfo, dict):
        raise ProtocolError("getinfo message has no searchinfo object")
    from splunk_app import engine_loader
    root = engine_loader.config_root()
    # The detection ids are read only when a rules= error needs to list them.
    options = parse_args(searchinfo.get("args", []), lambda: engine_loader.defined_detection_ids(root))
    pipes.widen((stdin, stdout), pipes.pipe_kb(os.environ))

    engine, note = engine_loader.load_engine(
        engine_loader.conf_paths(root), engine_loader.lookup_dir(root), options.rules
    )
    messages = []
    if note:
        messages.append(["INFO", "%s: %s" % (COMMAND, note)])
    for warning in getattr(engine, "warnings", None) or ():
        messages.append(["WARN", "%s: %s" % (COMMAND, warning)])
    reply = {"type": "streaming"}
    if messages:
        reply["inspector"] = {"messages": messages}
    write_chunk(stdout, reply)
    return engine, options


def _serve(stdin, stdout, engine, options):
    """Answer execute messages until the one marked finished (splunkd sends nothing after it,
    and need not close the pipe before waiting for the process) or the end of the input."""
    number = 0
    body_buffer = BodyBuffer()
    reply_fd = _streaming_fd(stdout, engine)
    while True:
        chunk = read_chunk(stdin, body_buffer)
        if chunk is None:
            return
        metadata, body = chunk
        action = metadata.get("action")
        if action != "execute":
            raise ProtocolError("expected an execute message, got action %r" % (action,))
        finished = bool(metadata.get("finished", False))
        number += 1
        if body and reply_fd is not None:
            # The native engine streams the reply to stdout's descriptor once the header that
            # announces its exact size is out: the reply never exists whole in memory.
            try:
                size = engine.prepare_reply(body, options.field, options.extract, options.only_detections)
            except ValueError as err:
                raise ChunkError("cannot process execute message %d: %s" % (number, err))
            stdout.write(encode_header({"finished": finished}, size))
            stdout.flush()
            engine.write_reply(reply_fd, body)
            out = None
        elif body:
            try:
                out = engine.process_body(body, options.field, options.extract, options.only_detections)
            except ValueError as err:
                raise ChunkError("cannot process execute message %d: %s" % (number, err))
            write_chunk(stdout, {"finished": finished}, out)
        else:
            write_chunk(stdout, {"finished": finished}, b"")
        if finished:
            return
        # Let go of this chunk and its reply before reading the next one: otherwise both stay
        # alive while the next chunk is read and processed, adding 2 x a chunk to the peak.
        chunk = body = out = None


def _streaming_fd(stdout, engine):
    """stdout's file descriptor when the engine can stream replies to it (the native engine and
    a real stdout), else None: the reply is then built in memory and written by write_chunk."""
    if not hasattr(engine, "prepare_reply"):
        return None
    try:
        return stdout.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last two
        return None


def main(stdin, stdout, stderr=None):
    """Run the command over binary streams; return the process exit code."""
    stderr = sys.stderr if stderr is None else stderr
    try:
        started = _start(stdin, stdout)
        if started is None:
            return 0
        _serve(stdin, stdout, *started)
        return 0
    except (BrokenPipeError, ConnectionResetError):
        # splunkd went away (search cancelled or finalized): nobody to tell.
        _discard_output(stdout)
        return 1
    except ProtocolError as err:
        _report(stdout, stderr, "protocol error: %s" % err)
        return 2
    except (OptionError, ValueError, ChunkError) as err:
        # Options, engine choice, detection files, rules= selections (the message names what
        # is valid) and chunks the engine rejects.
        _report(stdout, stderr, str(err))
        return 1
    except Exception as err:
        import traceback
        try:
            traceback.print_exc(file=stderr)
        except Exception:
            pass
        _report(stdout, stderr, "internal error: %s: %s" % (err.__class__.__name__, err))
        return 3
