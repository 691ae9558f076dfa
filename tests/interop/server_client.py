"""Drives sfmcp-server with the official Python MCP SDK (`mcp` on PyPI): lists the tools and
calls `searchLeads` (the example question), `getAccountInsights`, `getOpportunity`, `search`,
`fetch`, `createTask` and `updateContact`, printing what came back for the Rust test to check
against figures it computes from the org itself.

Usage: server_client.py MODE ACCOUNT_ID TARGET...
  MODE   legacy | 2026-07-28 | auto
  TARGET an http:// URL, or a command (and its arguments) to launch as a stdio server.
  SFMCP_BEARER (environment), when set, is sent as `Authorization: Bearer` over HTTP.
Prints `protocol V`, `tools [...]`, one line per tool result, and "ok".
"""

import json
import os
import sys

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from sdk_common import fail, tool_names


async def main() -> None:
    mode, account_id, target = sys.argv[1], sys.argv[2], sys.argv[3:]
    bearer = os.environ.get("SFMCP_BEARER")
    if len(target) == 1 and target[0].startswith("http"):
        server = target[0]
        if bearer:
            http = create_mcp_http_client(headers={"Authorization": f"Bearer {bearer}"})
            server = streamable_http_client(target[0], http_client=http)
    else:
        server = StdioServerParameters(command=target[0], args=target[1:])
    async with Client(server, mode=mode, raise_exceptions=True) as client:
        print(f"protocol {client.protocol_version}")
        print("tools " + json.dumps(await tool_names(client)))

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
        insights = result.structured_content
        print("insights " + json.dumps(insights))

        async def call(name, arguments):
            result = await client.call_tool(name, arguments)
            if result.is_error:
                fail(f"{name} failed: {result}")
            return result

        opportunity = insights["openOpportunities"][0]["id"]
        result = await call("getOpportunity", {"id": opportunity})
        print("opportunity " + json.dumps(result.structured_content))

        # ChatGPT's pair: one text block of JSON each.
        result = await call("search", {"query": insights["account"]["name"]})
        found = json.loads(result.content[0].text)
        print("search " + json.dumps(found))
        result = await call("fetch", {"id": found["results"][0]["id"]})
        print("fetch " + result.content[0].text)

        result = await call("createTask", {"subject": "Follow up (e2e)", "relatedTo": account_id})
        print("task " + json.dumps(result.structured_content))
        contact = insights["keyContacts"][0]["id"]
        result = await call("updateContact", {"id": contact, "fields": {"Title": "VP Sales (e2e)"}})
        print("contact " + json.dumps(result.structured_content))
    print("ok")


anyio.run(main)
