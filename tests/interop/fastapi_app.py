"""A FastAPI app paginated by fastapi-pagination: run it with
`uvicorn tests.interop.fastapi_app:app` and `FASTAPI_DATA` naming a folder holding
`items.json` and `events.json` (read on every request, so a test can change them).

`/page/items` (`Page`: `?page=&size=`, `{items, total, page, size, pages}`), `/lo/items`
(`LimitOffsetPage`: `?limit=&offset=`, `{items, total, limit, offset}`), `/events` (`Page`,
`?version_gt=N`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import FastAPI
from fastapi_pagination import Page, add_pagination, paginate
from fastapi_pagination.limit_offset import LimitOffsetPage
from pydantic import BaseModel

DATA = Path(os.environ["FASTAPI_DATA"])


class Size(BaseModel):
    w: int
    h: int


class Meta(BaseModel):
    color: str
    size: Size


class Item(BaseModel):
    id: int
    name: str
    price: float
    qty: int
    active: bool
    version: int
    meta: Meta
    tags: list[str]


def _load(name: str) -> list[Item]:
    records = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return [Item(**r) for r in sorted(records, key=lambda r: r["id"])]


app = FastAPI()


@app.get("/page/items")
def page_items() -> Page[Item]:
    return paginate(_load("items"))


@app.get("/lo/items")
def limit_offset_items() -> LimitOffsetPage[Item]:
    return paginate(_load("items"))


@app.get("/events")
def events(version_gt: int = 0) -> Page[Item]:
    return paginate([e for e in _load("events") if e.version > version_gt])


add_pagination(app)
