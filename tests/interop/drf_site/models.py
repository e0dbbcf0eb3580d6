"""The two tables the DRF server serves: `items` (read by the pagination tests) and `events`
(changed between the runs of the incremental test)."""

from __future__ import annotations

from django.db import models


class Record(models.Model):
    id = models.IntegerField(primary_key=True)
    name = models.TextField()
    price = models.FloatField()
    qty = models.IntegerField()
    active = models.BooleanField()
    version = models.IntegerField()
    meta = models.JSONField()
    tags = models.JSONField()

    class Meta:
        abstract = True
        ordering = ("id",)


class Item(Record):
    class Meta(Record.Meta):
        db_table = "items"


class Event(Record):
    class Meta(Record.Meta):
        db_table = "events"
