"""A minimal Django REST framework project, configured in code: run it with
`uvicorn tests.interop.drf_site.asgi:application` and `DRF_DB` naming a SQLite file (the
tables are created on start; `DRF_SEED`, a JSON file `{"items": [...], "events": [...]}`,
fills them when they are empty).

Endpoints, 25 records a page unless asked otherwise: `/pn/items/` (PageNumberPagination,
`page_size` accepted), `/lo/items/` (LimitOffsetPagination), `/cursor/items/`
(CursorPagination on `id`), `/events/` (PageNumberPagination, `?version__gt=N`)."""

from __future__ import annotations

import json
import os
from typing import Any

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="restsync-interop-tests",  # a throwaway loopback server
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "rest_framework", "tests.interop.drf_site"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DRF_DB"]}},
    REST_FRAMEWORK={"UNAUTHENTICATED_USER": None, "DEFAULT_PERMISSION_CLASSES": []},
    USE_TZ=True,
)
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import QuerySet  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import generics, pagination, serializers  # noqa: E402

from tests.interop.drf_site.models import Event, Item  # noqa: E402

PAGE_SIZE = 25


def _create_and_seed() -> None:
    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in (Item, Event):
            if model._meta.db_table not in existing:
                editor.create_model(model)
    seed = os.environ.get("DRF_SEED")
    if not seed:
        return
    with open(seed, encoding="utf-8") as fh:
        data = json.load(fh)
    for model, key in ((Item, "items"), (Event, "events")):
        if not model.objects.exists():
            model.objects.bulk_create(model(**r) for r in data[key])


_create_and_seed()


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ("id", "name", "price", "qty", "active", "version", "meta", "tags")


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ItemSerializer.Meta.fields


class PageNumber(pagination.PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 100


class LimitOffset(pagination.LimitOffsetPagination):
    default_limit = PAGE_SIZE
    max_limit = 100


class Cursor(pagination.CursorPagination):
    page_size = PAGE_SIZE
    ordering = "id"


def _items(paginator: type[pagination.BasePagination]) -> Any:
    return generics.ListAPIView.as_view(
        queryset=Item.objects.all(), serializer_class=ItemSerializer, pagination_class=paginator
    )


class Events(generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = EventSerializer
    pagination_class = PageNumber

    def get_queryset(self) -> QuerySet[Event]:
        events = Event.objects.all()
        since = self.request.query_params.get("version__gt")
        return events.filter(version__gt=int(since)) if since else events


urlpatterns = [
    path("pn/items/", _items(PageNumber)),
    path("lo/items/", _items(LimitOffset)),
    path("cursor/items/", _items(Cursor)),
    path("events/", Events.as_view()),
]

application = get_asgi_application()
