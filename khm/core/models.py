"""What changed where, for the pre-aggregated figures (khm.insights).

Every write that names an area (each audited write, each bulk insert of rows with an area
code) records the area here in its own transaction; the insights refresh recomputes the
figures of those areas only and removes the rows it handled."""

from __future__ import annotations

from django.db import models


class ChangedArea(models.Model):
    area_code = models.CharField(max_length=8, primary_key=True)  # "" = everywhere
    at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.area_code or "*"
