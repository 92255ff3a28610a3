"""Pre-aggregated figures: one row per area, round, subset and metric.

Village rows are computed from the data (facts.py); district, subdistrict and province rows
are sums of their villages. Every metric is additive (counts and sums; ratios such as the
MPI's H, A and M0 are computed on read from their counts and sums), so any area, or any set
of villages a local government owns, is a sum of rows. Dashboards read only these rows.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Fact(models.Model):
    area_code = models.CharField(max_length=8)
    level = models.PositiveSmallIntegerField()  # 1 province … 4 village
    round = models.CharField(max_length=20, blank=True)  # "" for figures not tied to a round
    dim = models.CharField(max_length=40, blank=True)  # "" all, or a subset: "sex:F", "source:tpmap", "dep:bmn08"…
    metric = models.CharField(max_length=40)
    value = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["area_code", "round", "dim", "metric"], name="fact_once"),
        ]
        indexes = [
            models.Index(fields=["level", "round", "dim", "area_code"], name="fact_read_idx"),
            # The refresh replaces and sums rows by level and area: a range on area_code per level.
            models.Index(fields=["level", "area_code"], name="fact_area_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.area_code}/{self.round}/{self.dim}/{self.metric}={self.value}"


class RefreshRun(models.Model):
    started_at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField(default=0)
    villages = models.PositiveIntegerField(default=0)
    full = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"refresh {self.pk}"
