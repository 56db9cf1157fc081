"""The app server's own clock for the load benchmark (bench/load_bench.py, ``--server-clock``; on with
``--split-cores``): when the server read each websocket frame from a browser, and when it handed the frame holding a
tap's answer to the socket (stamped as the write starts). Loaded by Python at start-up (``sitecustomize``) when this
directory is on PYTHONPATH and KL_WS_LOG names the file to write; otherwise it does nothing. Times are
time.monotonic() (CLOCK_MONOTONIC), the clock Chromium stamps its websocket frames with, so the two can be compared.
Lines: ``in <t> <connection>`` and ``out <t> <connection> <hex of the needle found>``."""

from __future__ import annotations

import os
import time

_LOG = os.environ.get("KL_WS_LOG")
_NEEDLES = [n.encode() for n in os.environ.get("KL_WS_NEEDLES", "): present|You have answered this survey").split("|")]

if _LOG:
    from starlette.websockets import WebSocket

    _out = open(_LOG, "a", buffering=1)
    _receive, _send = WebSocket.receive_bytes, WebSocket.send_bytes

    async def receive_bytes(self: WebSocket) -> bytes:
        data = await _receive(self)
        _out.write(f"in {time.monotonic():.6f} {id(self)}\n")
        return data

    async def send_bytes(self: WebSocket, data: bytes) -> None:
        t = time.monotonic()  # stamped as it is written: stamped after the await, a starved loop stamped it late,
        await _send(self, data)  # after the browser had it (7 of 100 check-ins unmatched in a run at load 26-28)
        for needle in _NEEDLES:
            at = data.find(needle)
            if at >= 0:      # the answer's words with what precedes them (the pseudonym), for matching
                _out.write(f"out {t:.6f} {id(self)} {data[max(0, at - 24):at + len(needle)].hex()}\n")
                break

    WebSocket.receive_bytes = receive_bytes  # type: ignore[method-assign]
    WebSocket.send_bytes = send_bytes  # type: ignore[method-assign]
