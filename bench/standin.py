#!/usr/bin/env python3
"""An independent stand-in for Closte's API, for the bulk-sync limit benchmark.

Not closte-sim: a few dozen lines of Python's asyncio, sharing no code with the simulator, so a
slowdown (or a speed-up) in the simulator's own request handling or latency injection can neither
hide nor cause a gap between `closte_sync` and its physical limit. It answers only what a bulk
sync sends, over HTTP/1.1 keep-alive:

  GET  /getdomains      {"success":true,"domains":[...]}
  POST /adddomainalias  {"success":true} (adds the alias; "already exists" when present)
  POST /ssl/install     {"success":true}

Every answer is sent --delay-ms after the whole request was read (to within microseconds): the round trip the
limit counts. The key is not checked. With --log, one JSON line per request (connection number,
path, monotonic arrival and answer times in seconds, the same clock as PHP's hrtime) is written
when the server stops (SIGTERM), so the client's time can be laid out request by request.

Usage: standin.py --port-file FILE [--delay-ms 50] [--log FILE] [--tls-cert PEM --tls-key PEM]
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import time
from urllib.parse import parse_qs, urlsplit


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--log")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    options = parser.parse_args()
    asyncio.run(serve(options))


async def serve(options):
    delay = options.delay_ms / 1000.0
    aliases = set()
    log = []
    connections = 0

    async def handle(reader, writer):
        nonlocal connections
        connections += 1
        connection = connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                arrived = time.monotonic()
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                url = urlsplit(target)
                fields = {k: v[0] for k, v in parse_qs(body.decode() if method == "POST" else url.query).items()}
                status, answer = respond(url.path, fields, aliases)
                await until(arrived + delay)
                payload = json.dumps(answer).encode()
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(payload)).encode()
                    + b"\r\n\r\n"
                    + payload
                )
                await writer.drain()
                log.append({"connection": connection, "path": url.path, "arrived": arrived, "answered": time.monotonic()})
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    context = None
    if options.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(options.tls_cert, options.tls_key)
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context, backlog=512)
    with open(options.port_file + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    os.replace(options.port_file + ".tmp", options.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    if options.log:
        with open(options.log, "w") as f:
            for entry in log:
                f.write(json.dumps(entry) + "\n")


async def until(deadline):
    """Sleeps until `deadline` (monotonic seconds) to within some microseconds: asyncio's epoll
    wait rounds a timeout up to whole milliseconds, which would add about half a millisecond to
    every round trip; so it sleeps to 2 ms before and spins the rest."""
    early = deadline - time.monotonic() - 0.002
    if early > 0:
        await asyncio.sleep(early)
    while time.monotonic() < deadline:
        pass


def respond(path, fields, aliases):
    # The clients' base URL ends in /api/client, as Closte's does.
    path = path.removeprefix("/api/client")
    domain = fields.get("domain", "")
    if path == "/getdomains":
        return b"200 OK", {"success": True, "domains": sorted(aliases)}
    if path == "/adddomainalias":
        if not domain:
            return b"200 OK", {"success": False, "error": "Invalid or empty domain: "}
        if domain in aliases:
            return b"200 OK", {"success": False, "error": "Domain alias already exists"}
        aliases.add(domain)
        return b"200 OK", {"success": True}
    if path == "/ssl/install":
        return b"200 OK", {"success": True}
    return b"404 Not Found", {"success": False, "error": "Not found"}


if __name__ == "__main__":
    main()
