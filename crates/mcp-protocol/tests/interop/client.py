"""Drives an MCP server with the official Python SDK (`mcp` on PyPI) and checks what the
acceptance criteria ask for: paginated tools/list, a tool call with structured output, progress
notifications, cancelling a long call (seen by the server), and reading a resource.

Usage: client.py MODE TARGET...
  MODE   legacy | 2026-07-28 | auto
  TARGET an http:// URL, or a command (and its arguments) to launch as a stdio server.
Prints the negotiated protocol version and "ok"; exits non-zero with a reason otherwise.
"""

import json
import sys

import anyio
from mcp import Client, StdioServerParameters


def fail(reason: str) -> None:
    print(f"FAIL: {reason}", file=sys.stderr)
    sys.exit(1)


async def cancelled_count(client: Client) -> int:
    result = await client.read_resource("mem://stats")
    return json.loads(result.contents[0].text)["cancelled"]


async def main() -> None:
    mode, target = sys.argv[1], sys.argv[2:]
    if len(target) == 1 and target[0].startswith("http"):
        server = target[0]
    else:
        server = StdioServerParameters(command=target[0], args=target[1:])
    async with Client(server, mode=mode, raise_exceptions=True) as client:
        print(f"protocol {client.protocol_version}")

        names, cursor, pages = [], None, 0
        while True:
            page = await client.list_tools(cursor=cursor)
            pages += 1
            names += [t.name for t in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        if names != ["echo", "slow", "add", "fail"] or pages != 2:
            fail(f"tools/list gave {names} in {pages} pages")

        result = await client.call_tool("add", {"a": 2, "b": 3})
        if result.structured_content != {"sum": 5.0} or result.is_error:
            fail(f"add gave {result}")

        seen = []

        async def record(progress, total, message):
            seen.append((progress, total))

        result = await client.call_tool("slow", {"steps": 3, "delay_ms": 5}, progress_callback=record)
        if seen != [(1, 3), (2, 3), (3, 3)]:
            fail(f"progress was {seen}")

        before = await cancelled_count(client)
        started = anyio.Event()

        async def on_start(progress, total, message):
            started.set()

        async with anyio.create_task_group() as tg:

            async def long_call():
                await client.call_tool("slow", {"steps": 1000, "delay_ms": 20}, progress_callback=on_start)
                fail("the long call finished instead of being cancelled")

            tg.start_soon(long_call)
            await started.wait()
            tg.cancel_scope.cancel()
        # Cancellation reaches the server asynchronously: poll its counter (bounded).
        for _ in range(200):
            if await cancelled_count(client) > before:
                break
            await anyio.sleep(0.05)
        else:
            fail("the server never saw the cancellation")

        result = await client.read_resource("mem://readme")
        if result.contents[0].text != "Hello from the echo server.":
            fail(f"resources/read gave {result}")

        result = await client.call_tool("echo", {"text": "still alive"})
        if result.content[0].text != "still alive":
            fail(f"echo after cancel gave {result}")
    print("ok")


anyio.run(main)
