"""HTTP routes of the Files and Batches APIs: upload, create, poll, download."""
from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agents.pipeline.chat_completion import error_body
from agents.serving.batch_jobs import BatchApiError


class BatchRoutes:
    """Route handlers over one BatchJobs (in this process, or a proxy to the cluster's pipeline actor)."""

    def __init__(self, jobs) -> None:
        self.jobs = jobs

    def routes(self) -> list[Route]:
        return [Route("/v1/files", self.upload, methods=["POST"]),
                Route("/v1/files/{file_id}", self.file, methods=["GET"]),
                Route("/v1/files/{file_id}/content", self.content, methods=["GET"]),
                Route("/v1/batches", self.create, methods=["POST"]),
                Route("/v1/batches/{batch_id}", self.batch, methods=["GET"])]

    async def upload(self, request: Request) -> Response:
        """POST /v1/files (multipart: purpose=batch, file=the JSONL)."""
        try:
            fields = parse_multipart(request.headers.get("content-type", ""), await request.body())
            filename, data = fields.get("file", (None, None))
            if data is None:
                raise BatchApiError(400, "no `file` part: upload the JSONL as multipart field `file`", "file")
            purpose = (fields.get("purpose") or (None, b""))[1].decode()
            return JSONResponse(await self.jobs.add_file(filename or "input.jsonl", purpose, data))
        except BatchApiError as exc:
            return _error(exc)

    async def file(self, request: Request) -> Response:
        return await _answer(self.jobs.file(request.path_params["file_id"]))

    async def content(self, request: Request) -> Response:
        try:
            data = await self.jobs.content(request.path_params["file_id"])
        except BatchApiError as exc:
            return _error(exc)
        return Response(data, media_type="application/jsonl")

    async def create(self, request: Request) -> Response:
        """POST /v1/batches {input_file_id, endpoint, completion_window, metadata?}."""
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict) or not isinstance(body.get("input_file_id"), str):
                raise BatchApiError(400, "send {input_file_id, endpoint, completion_window}", "input_file_id")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _error(BatchApiError(400, f"the request body is not valid JSON ({exc})"))
        except BatchApiError as exc:
            return _error(exc)
        return await _answer(self.jobs.create_batch(body["input_file_id"], str(body.get("endpoint")),
                                                    str(body.get("completion_window", "24h")), body.get("metadata")))

    async def batch(self, request: Request) -> Response:
        return await _answer(self.jobs.batch(request.path_params["batch_id"]))


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Form fields of a multipart/form-data body: name -> (filename, bytes)."""
    if not content_type.startswith("multipart/form-data"):
        raise BatchApiError(400, "upload files as multipart/form-data with fields `purpose` and `file`")
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise BatchApiError(400, "the multipart body could not be read: check its boundary")
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return fields


async def _answer(pending) -> Response:
    try:
        return JSONResponse(await pending)
    except BatchApiError as exc:
        return _error(exc)


def _error(exc: BatchApiError) -> Response:
    return JSONResponse(error_body(exc.message, param=exc.param), exc.status)
