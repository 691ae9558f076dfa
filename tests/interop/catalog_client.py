"""Drives the catalog beyond the core tools with the official Python MCP SDK (`mcp` on PyPI) over
Streamable HTTP in the 2026-07-28 era: the analytics tools on the product's example questions
(lead routing as a dry run, then applied twice), SOQL/SOSL, schema discovery, a Lead's create →
get → update → delete, Bulk API import (with progress) and export, a Flow, a report, the event
feed and API usage. It prints what came back for the Rust test (tests/it/server_catalog.rs) to
check against figures it computes from the org.

Usage: catalog_client.py URL INPUTS
  URL     the server's /mcp endpoint
  INPUTS  JSON: {"q1": "Q1 2027", "leadId": "00Q…", "owners": ["005…", "005…", "005…"]}
Prints `tools [...]`, one `LABEL {structuredContent}` line per call (plus `bulkExport.csv` and
`bulkImport.progress`), `called [...]` (the tools it called), and "ok".
"""

import json
import sys

import anyio
from mcp import Client
from sdk_common import fail, tool_names


async def main() -> None:
    url, inputs = sys.argv[1], json.loads(sys.argv[2])
    async with Client(url, mode="2026-07-28", raise_exceptions=True) as client:
        print("tools " + json.dumps(await tool_names(client)))
        called = set()

        async def call(label, name, arguments, progress=None):
            result = await client.call_tool(name, arguments, progress_callback=progress)
            if result.is_error:
                fail(f"{name} failed: {result}")
            called.add(name)
            print(f"{label} " + json.dumps(result.structured_content))
            return result

        # Reads first, so the writes below cannot change what they see.
        await call("recentEvents", "recentEvents", {"object": "Lead", "type": "lead-follow-up"})
        # "What are the key risk factors for our Q1 pipeline?"
        await call("pipelineQ1", "analyzePipeline", {"period": inputs["q1"], "limit": 5})
        # "Which deals are most likely to close this month?"
        await call("pipelineMonth", "analyzePipeline", {"period": "this_month", "limit": 5})
        # "Summarize all interactions with Acme Corp in the last 6 months"
        await call("acme", "summarizeAccountActivity", {"name": "Acme Corp", "months": 6})
        # "Which healthcare leads should we call first?"
        await call("scoreLeads", "scoreLeads", {"filters": {"industry": ["Healthcare"]}, "limit": 5})
        # "Route the new healthcare and retail leads: healthcare to the first rep, the rest round
        # robin": a dry run, then "go ahead" (applied), then applied once more, which finds
        # nothing left to change. Only lead owners change, which nothing below reads.
        first, *others = inputs["owners"]
        routing = {
            "filters": {"status": ["Open - Not Contacted"], "industry": ["Healthcare", "Retail"]},
            "limit": 10,
            "rules": [
                {"when": [{"field": "Industry", "equals": "Healthcare"}], "ownerId": first},
                {"roundRobin": others},
            ],
        }
        await call("routeLeads", "routeLeads", routing)
        await call("routeLeadsApplied", "routeLeads", {**routing, "apply": True})
        await call("routeLeadsAgain", "routeLeads", {**routing, "apply": True})
        await call("querySoql", "querySoql", {
            "soql": "SELECT StageName, COUNT(Id) n, SUM(Amount) total FROM Opportunity "
            "WHERE IsClosed = false GROUP BY StageName"
        })
        await call("searchRecords", "searchRecords", {"term": "Acme Corp", "objects": ["Account", "Opportunity"]})
        await call("listObjects", "listObjects", {"nameContains": "Opportunity"})
        await call("describeObject", "describeObject", {"object": "Lead", "fieldContains": "Rating"})
        await call("runReport", "runReport", {"reportName": "Open Pipeline by Stage", "includeDetails": False})
        result = await call("bulkExport", "bulkExport", {
            "soql": "SELECT Id, Name, Industry FROM Account WHERE Industry = 'Healthcare'"
        })
        csv = [c.resource.text for c in result.content if c.type == "resource"]
        print("bulkExport.csv " + json.dumps(csv))

        created = await call("createRecord", "createRecord", {"object": "Lead", "fields": {
            "FirstName": "Grace", "LastName": "Okonjo", "Company": "Catalog Clinic",
            "Industry": "Healthcare", "Rating": "Hot", "AnnualRevenue": 2500000,
        }})
        lead = created.structured_content["id"]
        await call("getRecord", "getRecord", {"id": lead, "fields": ["LastName", "Company", "Industry", "Rating"]})
        await call("updateRecord", "updateRecord", {"id": lead, "fields": {"Rating": "Warm", "Status": "Working - Contacted"}})
        await call("deleteRecord", "deleteRecord", {"id": lead})

        progress = []

        async def on_progress(done, total, message):
            progress.append({"progress": done, "total": total, "message": message})

        await call("bulkImport", "bulkImport", {
            "object": "Lead", "operation": "insert",
            "csv": "LastName,Company,Industry,Rating\n"
            "Lindqvist,Bulk Catalog AB,Retail,Warm\n"
            "Mensah,Bulk Catalog AB,Retail,Cold\n"
            ",Nameless Co,Retail,Warm\n",
        }, progress=on_progress)
        print("bulkImport.progress " + json.dumps(progress))
        await call("runFlow", "runFlow", {"flow": "Qualify_Lead", "inputs": {"leadId": inputs["leadId"], "rating": "Warm"}})
        await call("getApiUsage", "getApiUsage", {})
        print("called " + json.dumps(sorted(called)))
    print("ok")


anyio.run(main)
