"""Trusted bootstrap of one isolated worker: set up isolation, then serve length-prefixed msgpack frames."""
# Runs as `python -I -S worker_main.py SETTINGS_JSON` with an empty environment; stdlib + msgpack only.
import json
import mmap
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ERROR_CODES = {"timeout": 1, "memory": 2, "forbidden": 3, "tool_error": 4, "invalid_output": 5, "rejected": 6}
PROGRESS = struct.Struct("<qd")  # index of the running call (-1: loading code), its start time
FLUSH_EVERY_S = 0.05  # stream partial results so a later kill loses at most this much work
PART_BYTES = 1 << 17  # and at least this often, so the host decodes results while the worker runs
MAX_DETAIL = 2000
EXIT_MEMORY, EXIT_INTERNAL = 71, 70  # exit codes the host maps to 'memory' and 'forbidden'


def _bootstrap_imports(settings):
    """Import what the worker needs while the filesystem is still visible, then forget the paths."""
    added = [HERE] + list(settings["paths"])
    sys.path[:0] = added
    import msgpack  # noqa: F401
    try:
        import pyseccomp
    except (ImportError, OSError):
        pyseccomp = None
    import frame_codec
    import isolation
    import policy
    import worker_guards
    for name in policy.PRELOAD_MODULES:
        try:
            __import__(name)
        except ImportError:
            pass
    del sys.path[:len(added)]
    return msgpack, pyseccomp, isolation, worker_guards, frame_codec


class Channel:
    """Frames on the protocol pipe: 4-byte big-endian length, then one msgpack value."""

    def __init__(self, msgpack, codec, rfd, wfd):
        self.rfd, self.wfd = rfd, wfd
        self.unpackb = msgpack.unpackb
        self.Unpacker = msgpack.Unpacker
        self.collector_paused = codec.collector_paused
        self.packb = msgpack.packb

    def read(self):
        """Block for the next frame from the host; EOF ends the worker."""
        body = self.read_body()
        with self.collector_paused():
            return self.unpackb(body, raw=False)

    def read_lazily(self):
        """Block for the next frame; an unpacker over its items, which the caller decodes as it goes."""
        body = self.read_body()
        unpacker = self.Unpacker(raw=False, max_buffer_size=max(len(body), 1))
        unpacker.feed(body)
        unpacker.read_array_header()
        return unpacker

    def read_body(self):
        """The next frame's encoded body."""
        size = int.from_bytes(self._exact(4), "big")
        return self._exact(size)

    def _exact(self, n):
        """Read exactly n bytes."""
        chunks, got = [], 0
        while got < n:
            chunk = os.read(self.rfd, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError("host closed the protocol pipe")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def write_raw(self, body):
        """Send one already-encoded frame body."""
        data = memoryview(len(body).to_bytes(4, "big") + body)
        while data:
            data = data[os.write(self.wfd, data):]

    def write(self, value):
        """Send one value."""
        self.write_raw(self.packb(value))


class Worker:
    """The serving loop: load tools by hash, run batches of calls, answer with per-call results."""

    def __init__(self, msgpack, guards, codec, channel, progress, settings):
        self.guards, self.channel, self.progress = guards, channel, progress
        self.array_header = codec.array_header
        self.packer = msgpack.Packer(use_bin_type=True)
        self.max_value = settings["max_value_bytes"]
        # Keep every frame well under the host's frame limit, which it enforces by killing the worker.
        self.flush_bytes = min(settings["max_frame_bytes"] // 4, PART_BYTES)
        self.checked = settings["ast_check"]
        self.tools = {}  # hash -> (callable namespace, None) or (None, (code, detail))
        self.module_cache = {}
        self.packb = msgpack.packb

    def host_call(self, payload):
        """Ask the host a question and block for the answer (the host pauses the deadline meanwhile)."""
        if type(payload) is not dict:
            raise TypeError("host_call takes a dict payload")
        why = self.guards.json_safety_problem(payload)
        if why:
            raise TypeError(f"host_call payload is not JSON-safe: {why}")
        self.channel.write(["cb", payload])
        reply = self.channel.read()
        if not (isinstance(reply, list) and len(reply) == 4 and reply[0] == "cbr"):
            raise EOFError("unexpected frame while waiting for host_call reply")
        if not reply[1]:
            raise self.guards.HostCallError(reply[3])
        return reply[2]

    def load(self, key, code):
        """Compile and execute the tool's module body once; remember the namespace or the error."""
        import linecache
        filename = f"<tool {key[:12]}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        if self.checked:
            namespace = {"__builtins__": self.guards.restricted_builtins(self.host_call, self.module_cache)}
        else:
            namespace = {"host_call": self.host_call, "HostCallError": self.guards.HostCallError}
        namespace["__name__"] = "latm_tool"
        self.progress(-1)
        try:
            exec(compile(code, filename, "exec"), namespace)
        except BaseException as exc:  # the tool's failure, whatever it raised, is a result
            self.tools[key] = (None, self.classify(exc, skip_frames=1))
            return
        self.tools[key] = (namespace, None)

    def classify(self, exc, skip_frames=1):
        """Map an exception raised by tool code to (error code, trimmed traceback)."""
        guards = self.guards
        if isinstance(exc, MemoryError):
            return ERROR_CODES["memory"], "MemoryError: the tool exceeded the sandbox memory limit"
        if isinstance(exc, (guards.ForbiddenOperation, ImportError, PermissionError)):
            code = ERROR_CODES["forbidden"]
        else:
            code = ERROR_CODES["tool_error"]
        try:
            import traceback
            tb = exc.__traceback__
            for _ in range(skip_frames):
                tb = tb.tb_next if tb is not None else None
            text = "".join(traceback.format_exception(type(exc), exc, tb, limit=-8))
        except BaseException:
            text = f"{type(exc).__name__} (its message could not be formatted)"
        if len(text) > MAX_DETAIL:
            text = "..." + text[-MAX_DETAIL:]
        return code, text.rstrip()

    def encode_value(self, value):
        """(0, packed value), or (error code, packed detail) when the value cannot cross the pipe."""
        try:
            why = self.guards.json_safety_problem(value)
            if why is None and type(value) is str and len(value) > self.max_value:
                why = f"return value has {len(value)} characters; the limit is {self.max_value} bytes"
            if why is None:
                packed = self.packer.pack(value)
                if len(packed) <= self.max_value:
                    return 0, packed
                why = f"return value is {len(packed)} bytes; the limit is {self.max_value}"
        except MemoryError:
            return ERROR_CODES["memory"], self.packb("MemoryError while encoding the return value")
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            why = f"value cannot be encoded: {type(exc).__name__}: {exc}"[:MAX_DETAIL]
        return ERROR_CODES["invalid_output"], self.packb(why)

    def run(self, key, code, entry, count, next_args):
        """Run one batch of `count` calls, each call's arguments decoded by `next_args` just before
        it runs (decoding them all first costs a second pass over the batch and its memory);
        results stream back in 'part' frames and end with a 'done' frame."""
        if key not in self.tools:
            if self.tools:  # one tool per worker: the host never mixes tools in a process
                return self.fail_all(count, ERROR_CODES["rejected"], "internal: this worker serves another tool")
            if code is None:
                return self.fail_all(count, ERROR_CODES["rejected"], "internal: tool not loaded")
            self.load(key, code)
        namespace, load_error = self.tools[key]
        if load_error is None:
            fn = namespace.get(entry)
            if not callable(fn):
                load_error = (ERROR_CODES["tool_error"], f"entry {entry!r} is not a function defined by the code")
        if load_error is not None:
            return self.fail_all(count, *load_error)
        codes, out, size = bytearray(), [], 0
        progress, clock, encode, packb = self.progress, time.monotonic, self.encode_value, self.packb
        last_flush = clock()
        for index in range(count):
            args = next_args()
            started = clock()
            progress(index, started)
            try:
                value = fn(*args)
            except BaseException as exc:  # one bad call never stops the batch
                error, detail = self.classify(exc)
                codes.append(error)
                out.append(packb(detail))
                continue
            error, item = encode(value)
            codes.append(error)
            out.append(item)
            size += len(item)
            # Small parts: the host decodes one while this worker runs the next calls.
            if size > self.flush_bytes or started - last_flush > FLUSH_EVERY_S:
                self.send(b"part", codes, out)
                codes, out, last_flush, size = bytearray(), [], started, 0
        self.progress(-2)
        self.send(b"done", codes, out)

    def fail_all(self, count, error, detail):
        """Answer every call of the batch with the same error."""
        self.progress(-2)
        self.send(b"done", bytes([error]) * count, [self.packb(detail)] * count)

    def send(self, tag, codes, out):
        """A results frame [tag, one error code per call (0: ok), packed values or error details]."""
        self.channel.write_raw(b"\x93\xa4" + tag + self.packb(codes) + self.array_header(len(out)) + b"".join(out))

    def serve(self):
        """Answer 'run' frames until the host closes the pipe."""
        while True:
            frame = self.channel.read_lazily()
            if frame.unpack() != "run":
                raise EOFError("the host sent a frame other than 'run'")
            key, code, entry = frame.unpack(), frame.unpack(), frame.unpack()
            self.run(key, code, entry, frame.read_array_header(), frame.unpack)


def main():
    """Set up isolation, say hello with the active layers, serve."""
    settings = json.loads(sys.argv[1])
    msgpack, pyseccomp, isolation, guards, codec = _bootstrap_imports(settings)
    shared = mmap.mmap(settings["progress_fd"], PROGRESS.size)
    os.close(settings["progress_fd"])
    # Move the protocol pipe to unpredictable high descriptors, out of the tool's way.
    salt = int.from_bytes(os.urandom(2), "big") % 700
    rfd, wfd = 200 + salt, 201 + salt
    os.dup2(settings["rfd"], rfd)
    os.dup2(settings["wfd"], wfd)
    os.close(settings["rfd"])
    os.close(settings["wfd"])
    channel = Channel(msgpack, codec, rfd, wfd)
    try:
        layers = isolation.isolate(settings, settings["jail"], pyseccomp)
    except BaseException as exc:
        channel.write(["fatal", f"isolation setup failed: {type(exc).__name__}: {exc}"])
        return 3
    del isolation, pyseccomp

    def progress(index, started=0.0, _pack=PROGRESS.pack_into, _clock=time.monotonic):
        """Publish the running call's index and start time for the host's deadline check."""
        _pack(shared, 0, index, started or _clock())

    worker = Worker(msgpack, guards, codec, channel, progress, settings)
    channel.write(["hello", layers, os.getpid()])
    try:
        worker.serve()
    except (EOFError, OSError):
        return 0  # the host went away, or the tool closed the pipe: the host diagnoses it
    except MemoryError:
        return EXIT_MEMORY
    except BaseException:
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
