"""What every warehouse-backed asset shares: key = table, kinds, owners, partitions and the DuckDB pool."""

import functools

import dagster as dg

from kalshi_wx.defs.partitions import city_date_partitions
from kalshi_wx.defs.settings import storage_kind
from kalshi_wx.sources.http import is_transient
from kalshi_wx.sources.nws import NwsUnavailableError

OWNERS = ["team:data-platform"]
MARKETS_INPUT = {"markets": dg.AssetIn(key=["kalshi", "markets"])}
# DuckDB allows one writer process: every asset that writes the warehouse takes this pool (limit 1).
WAREHOUSE_POOL = "duckdb" if storage_kind() == "duckdb" else None


# Groups whose assets read outside services: a transient failure there is retried, a logic error is not.
INGESTION_GROUPS = ("kalshi", "weather")
# Spaced out past the sources' own retries (seconds), for an outage or a rate limit that outlasts them.
INGESTION_RETRY = dg.RetryPolicy(max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def retry_only_transient(fn):
    """Under ``INGESTION_RETRY``, let only transient failures through to Dagster's retry.

    Dagster retries every failure of a step with a retry policy; a payload that does not parse or a
    bug would fail the same way each time, so it fails at once (``allow_retries=False``). A warehouse
    held by another process fails in the IO manager, outside this wrapper, and is retried.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NwsUnavailableError:  # api.weather.gov failing after its bounded retries
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            raise dg.Failure(description=f"{type(exc).__name__}: {exc}", allow_retries=False) from exc

    return wrapper


def warehouse_asset(group: str, name: str, *, source_kind: str, partitioned: bool = True, **kwargs):
    """``@dg.asset`` for table ``group.name``: the group is the key prefix, as DESIGN.md lays out."""
    ingestion = group in INGESTION_GROUPS
    decorator = dg.asset(
        key=[group, name],
        group_name=group,
        kinds={source_kind, "polars", storage_kind()},
        owners=OWNERS,
        partitions_def=city_date_partitions if partitioned else None,
        pool=WAREHOUSE_POOL,
        retry_policy=INGESTION_RETRY if ingestion else None,
        **kwargs,
    )
    if not ingestion:
        return decorator
    return lambda fn: decorator(retry_only_transient(fn))


def warehouse_out(
    group: str,
    name: str,
    description: str,
    *,
    source_kind: str = "polars",
    automation_condition: dg.AutomationCondition | None = None,
) -> dg.AssetOut:
    """One table of a ``@dg.multi_asset`` that writes several (a backtest's fills and its day totals)."""
    return dg.AssetOut(
        key=[group, name],
        description=description,
        kinds={source_kind, storage_kind()},
        owners=OWNERS,
        automation_condition=automation_condition,
    )
