"""Calls `scoreLeads` with `narrative: true` through the official Python MCP SDK (`mcp` on PyPI)
over Streamable HTTP, supplying a sampling callback: in the legacy era the server's
`sampling/createMessage` arrives on the tool call's SSE stream and the SDK posts the answer; in
the 2026-07-28 era the call returns `input_required` and the SDK retries with `inputResponses`.

Usage: sampling_client.py MODE URL [decline]
  MODE     legacy | 2026-07-28
  decline  the callback refuses (returns an error) instead of answering.
Prints `protocol V`, `prompt {…}` (what the callback was asked, once per request it got),
`produced "…"` (the text it returned), `plain {…}` and `narrated {…}` (structuredContent
without and with a narrative) and "ok".
"""

import json
import sys

import anyio
from mcp import Client, types
from sdk_common import fail


async def main() -> None:
    mode, url = sys.argv[1], sys.argv[2]
    decline = sys.argv[3:] == ["decline"]

    async def sampling(context, params: types.CreateMessageRequestParams):
        text = params.messages[0].content.text
        facts = json.loads(text[text.index("\n") + 1 :])
        print("prompt " + json.dumps({
            "systemPrompt": params.system_prompt,
            "maxTokens": params.max_tokens,
            "facts": facts,
        }))
        if decline:
            return types.ErrorData(code=-1, message="User rejected sampling request")
        # Written from the facts, so the test sees the server passed them on.
        top = facts[0]
        produced = f"{top['name']} leads with {top['score']} ({top['grade']}) of {len(facts)} scored."
        print("produced " + json.dumps(produced))
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=produced),
            model="interop-test-model",
            stop_reason="endTurn",
        )

    arguments = {"filters": {"industry": ["Healthcare"]}, "limit": 5}
    async with Client(url, mode=mode, raise_exceptions=True, sampling_callback=sampling) as client:
        print(f"protocol {client.protocol_version}")
        plain = await client.call_tool("scoreLeads", arguments)
        if plain.is_error:
            fail(f"scoreLeads failed: {plain}")
        print("plain " + json.dumps(plain.structured_content))
        narrated = await client.call_tool("scoreLeads", {**arguments, "narrative": True})
        if narrated.is_error:
            fail(f"scoreLeads with a narrative failed: {narrated}")
        print("narrated " + json.dumps(narrated.structured_content))
    print("ok")


anyio.run(main)
