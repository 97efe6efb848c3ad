"""`python -m bench.bare_app --address A --port P`: the bare gateway baseline, a FastAPI app of the same shape.

GET `/l/{workflow_id}`: one query to the trivial workflow, then a small Jinja template.
POST `/l/{workflow_id}/decision`: the form read, one `execute_update`, a small page.
Served by uvicorn the way `consult gateway` serves the gateway (one process, no access log).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import DictLoader, Environment, select_autoescape
from temporalio.client import Client

from bench.bare_workflow import QUERY, UPDATE

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main>
<h1>{{ title }}</h1>
<p>{{ reader }}: version {{ version }}, {{ records }} decision(s) so far.</p>
{% if last %}<p>Last: {{ last.decision }} by {{ last.approver }}</p>{% endif %}
<form method="post" action="{{ action }}">
<textarea name="comment"></textarea>
<button name="decision" value="approve">Approve</button>
<button name="decision" value="request_changes">Request changes</button>
</form>
</main></body></html>
"""
DONE = "<!doctype html><html><body><h1>Recorded</h1><p>{{ decision }} by {{ approver }}</p></body></html>"
TIMEOUT = timedelta(seconds=10)


def create_app(address: str, namespace: str) -> FastAPI:
    templates = Jinja2Templates(
        env=Environment(loader=DictLoader({"page.html": PAGE, "done.html": DONE}), autoescape=select_autoescape())
    )
    clients: list[Client] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        clients.append(await Client.connect(address, namespace=namespace))
        yield

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/l/{workflow_id}", response_class=HTMLResponse)
    async def page(request: Request, workflow_id: str) -> Response:
        state = await clients[0].get_workflow_handle(workflow_id).query(QUERY, rpc_timeout=TIMEOUT)
        context = {
            "title": "Minutes of round 1",
            "reader": "Carolina Fuentes (República de Chile)",
            "version": 1,
            "records": state["records"],
            "last": state["last"],
            "action": f"/l/{workflow_id}/decision",
        }
        return templates.TemplateResponse(request, "page.html", context)

    @app.post("/l/{workflow_id}/decision", response_class=HTMLResponse)
    async def decide(request: Request, workflow_id: str) -> Response:
        form = await request.form()
        decision = {"approver": "cfuentes@minrel.example", "decision": str(form.get("decision", ""))}
        record = await clients[0].get_workflow_handle(workflow_id).execute_update(UPDATE, decision, rpc_timeout=TIMEOUT)
        return templates.TemplateResponse(request, "done.html", dict(record))

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.address, args.namespace), host="127.0.0.1", port=args.port, log_config=None, access_log=False
    )


if __name__ == "__main__":
    main()
