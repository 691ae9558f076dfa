"""Drives sfmcp-server with the official Python MCP SDK (`mcp` on PyPI): lists the tools and
calls `searchLeads` (the example question) and `getAccountInsights`, printing what came back for
the Rust test to check against figures it computes from the org itself.

Usage: server_client.py MODE ACCOUNT_ID TARGET...
  MODE   legacy | 2026-07-28 | auto
  TARGET an http:// URL, or a command (and its arguments) to launch as a stdio server.
Prints `protocol V`, `tools [...]`, `searchLeads {...}`, `insights {...}` and "ok".
"""

import json
import sys

import anyio
from mcp import Client, StdioServerParameters


def fail(reason: str) -> None:
    print(f"FAIL: {reason}", file=sys.stderr)
    sys.exit(1)


async def main() -> None:
    mode, account_id, target = sys.argv[1], sys.argv[2], sys.argv[3:]
    if len(target) == 1 and target[0].startswith("http"):
        server = target[0]
    else:
        server = StdioServerParameters(command=target[0], args=target[1:])
    async with Client(server, mode=mode, raise_exceptions=True) as client:
        print(f"protocol {client.protocol_version}")
        names, cursor = [], None
        while True:
            page = await client.list_tools(cursor=cursor)
            names += [t.name for t in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        print("tools " + json.dumps(names))

        # "Show me high-value leads from the healthcare industry created this week"
        result = await client.call_tool(
            "searchLeads",
            {"industry": ["Healthcare"], "rating": ["Hot"], "createdPeriod": "this_week", "limit": 50},
        )
        if result.is_error:
            fail(f"searchLeads failed: {result}")
        print("searchLeads " + json.dumps(result.structured_content))

        result = await client.call_tool("getAccountInsights", {"id": account_id})
        if result.is_error:
            fail(f"getAccountInsights failed: {result}")
        print("insights " + json.dumps(result.structured_content))
    print("ok")


anyio.run(main)
