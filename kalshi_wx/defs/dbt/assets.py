"""The dbt feature panels (``dbt_features/``) as Dagster assets: one dbt build per run, over its partitions.

No `from __future__ import annotations` here: Dagster validates the `context` annotation.
"""

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject, dbt_assets

from kalshi_wx.defs.assets.common import OWNERS, WAREHOUSE_POOL
from kalshi_wx.defs.automation import REFRESH_ON_UPSTREAM_UPDATE
from kalshi_wx.defs.dbt.project import dbt_project, dbt_vars
from kalshi_wx.defs.dbt.resource import WarehouseDbtCliResource
from kalshi_wx.defs.partitions import city_and_date, city_date_partitions
from kalshi_wx.defs.settings import settings, storage_kind

FEATURES_GROUP = "features"


class FeaturesTranslator(DagsterDbtTranslator):
    """dbt model ``x`` is asset ``features/x`` in group ``features``, like the warehouse tables' keys."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            return dg.AssetKey([FEATURES_GROUP, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return FEATURES_GROUP

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        # The one-line description from schema.yml, without the raw SQL dagster-dbt appends.
        return dbt_resource_props["description"]

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        return OWNERS

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        return REFRESH_ON_UPSTREAM_UPDATE

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        # dagster-dbt takes the kind from the adapter that last parsed the manifest; the warehouse decides it.
        return super().get_asset_spec(manifest, unique_id, project).replace_attributes(kinds={"dbt", storage_kind()})


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name="dbt_features",
    partitions_def=city_date_partitions,
    pool=WAREHOUSE_POOL,
    dagster_dbt_translator=FeaturesTranslator(),
    # A backfill hands dbt ranges of days, so dbt starts and parses once per batch, not per city-day.
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=settings().automation.dbt_batch_days),
)
def dbt_features_assets(context: dg.AssetExecutionContext, dbt: WarehouseDbtCliResource):
    # dagster-dbt turns the selected subset into --select, so a run can build minute_panel, then
    # the Python PMFs, then minute_panel_full; each dbt test reports as an asset check.
    args = ["build", "--vars", json.dumps(dbt_vars(city_and_date(key) for key in context.partition_keys))]
    # dagster-dbt would keep every invocation's artifacts (~2 MB) under dbt_features/target, which a
    # backfill turns into gigabytes; dbt's errors still reach the step failure and the event log.
    with tempfile.TemporaryDirectory(prefix="dbt_features-") as target_path:
        yield from dbt.cli(args, context=context, target_path=Path(target_path)).stream()
