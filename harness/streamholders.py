"""`python -m harness.streamholders`: hold N event streams open and note when each merge's start reaches each one.

The load generator of the streams scenario (harness/streams.py starts it on its own core): one asyncio process,
a socket and a few hundred bytes per stream, so that ten thousand streams cost the generator less than they cost
a server. It prints `held K` once every stream has its `status` event or the connect window has passed, holds
the streams until its standard input closes, then prints one JSON line: how many streams it held, how many were
still open at the end, and for each `merge-started` event id the wall-clock times it arrived, one per stream.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections import defaultdict
from urllib.parse import urlsplit

from launcher.process import raise_open_files_limit

# handshakes in flight at once: past the server's listen backlog, connections wait for SYN retries (1 s, 3 s...)
CONNECTING_AT_ONCE = 200
# no stream opened or refused for this long: the server has reached what it holds
STALLED_SECONDS = 3.0


class Holders:
    """The streams, what they received, and whether each is still open."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.request = f"GET /merge/events HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
        self.held = 0
        self.open = 0
        self.refused: dict[str, int] = defaultdict(int)  # why a stream did not open, by kind
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

    async def hold(self) -> None:
        """Open one stream, count it held at its status event, and note each merge start until it closes."""
        writer = None
        try:
            async with self.gate:
                reader, writer = await asyncio.open_connection(self.host, self.port)
                writer.write(self.request)
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    self.refused[head.split(b"\r\n", 1)[0].decode(errors="replace")] += 1
                    return
                # the status event: the lines hold whole events, whatever the chunked framing around them
                while not (await reader.readline()).startswith(b"event: status"):
                    pass
            self.held += 1
            self.open += 1
            try:
                while line := await reader.readline():
                    if line.startswith(b"id: ") and line.rstrip().endswith(b"-started"):
                        self.arrivals[line[4:].rstrip().decode()].append(time.time())
            finally:
                self.open -= 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            self.refused[type(error).__name__] += 1
        finally:
            if writer is not None:
                writer.close()


async def main_async(url: str, streams: int, connect_seconds: float) -> dict[str, object]:
    """Hold the streams until standard input closes; the counts and arrival times."""
    parts = urlsplit(url)
    holders = Holders(parts.hostname or "127.0.0.1", parts.port or 80)
    tasks = [asyncio.create_task(holders.hold()) for _ in range(streams)]
    deadline = time.monotonic() + connect_seconds
    settled, progress = 0, time.monotonic()
    while holders.held + sum(holders.refused.values()) < streams and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        if (done := holders.held + sum(holders.refused.values())) != settled:
            settled, progress = done, time.monotonic()
        elif time.monotonic() - progress > STALLED_SECONDS:
            break  # the server takes no more: a sync worker holds one stream, a thread pool its size
    print(f"held {holders.held}", flush=True)
    # hold until the harness closes our standard input
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    open_at_end = holders.open
    for task in tasks:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "requested": streams,
        "held": holders.held,
        "open_at_end": open_at_end,
        "refused": dict(holders.refused),
        "arrivals": dict(holders.arrivals),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.streamholders", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("url", help="the server, such as http://127.0.0.1:8000")
    parser.add_argument("streams", type=int, help="how many streams to open")
    parser.add_argument("--connect-seconds", type=float, default=60.0, help="how long opening may take (60)")
    arguments = parser.parse_args(argv)
    raise_open_files_limit()
    result = asyncio.run(main_async(arguments.url, arguments.streams, arguments.connect_seconds))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
