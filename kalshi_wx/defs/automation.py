"""How the city x date graph runs by itself: a daily ingest per city and declarative refreshes downstream.

The settlement-polling sensor lives beside ``weather/settlement`` (defs/assets/weather.py); the
recorded-snapshot sensor beside ``highres/book_snapshots``.
"""

from datetime import date, timedelta

import dagster as dg

from kalshi_wx.core.cities import City
from kalshi_wx.defs.jobs import raw_daily_job
from kalshi_wx.defs.partitions import city_date_key
from kalshi_wx.defs.settings import automation_running_by_default, settings

AUTOMATION = settings().automation
SENSOR_STATUS = dg.DefaultSensorStatus.RUNNING if automation_running_by_default() else dg.DefaultSensorStatus.STOPPED
SCHEDULE_STATUS = (
    dg.DefaultScheduleStatus.RUNNING if automation_running_by_default() else dg.DefaultScheduleStatus.STOPPED
)

# Refresh a partition when something it reads was updated (a new raw day, a late settlement or
# correction), for days up to `late_correction_days` back: eager() alone only looks at the newest
# day, so a correction of an older day would refresh nothing (shared/reference/dagster_notes.md).
REFRESH_ON_UPSTREAM_UPDATE = dg.AutomationCondition.eager().replace(
    "in_latest_time_window",
    dg.AutomationCondition.in_latest_time_window(lookback_delta=timedelta(days=AUTOMATION.late_correction_days)),
)


def standard_time_zone(city: City) -> str:
    """The IANA zone of the city's standard offset all year (climate days never shift with daylight time)."""
    # The Etc/GMT zones count hours west of UTC as positive.
    return f"Etc/GMT{-city.std_utc_offset_hours:+d}"


def closed_climate_day(scheduled: date) -> date:
    """The climate day a tick on local standard date ``scheduled`` ingests: the one that ended at its midnight."""
    return scheduled - timedelta(days=1)


def _ingest_schedule(city: City) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"ingest_closed_day_{city.key}",
        job=raw_daily_job,
        cron_schedule=f"0 {AUTOMATION.ingest_hour_lst} * * *",
        execution_timezone=standard_time_zone(city),
        default_status=SCHEDULE_STATUS,
        description=f"Ingests {city.name}'s climate day that just closed, once its final CLI is normally out "
        f"({AUTOMATION.ingest_hour_lst:02d}:00 local standard time); automation refreshes what depends on it.",
    )
    def _ingest(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = closed_climate_day(context.scheduled_execution_time.date())
        key = city_date_key(city.key, day)
        return dg.RunRequest(run_key=f"ingest|{key}", partition_key=key)

    return _ingest


ingest_schedules = [_ingest_schedule(city) for city in settings().cities.values()]

automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation",
    target=dg.AssetSelection.all(),
    default_status=SENSOR_STATUS,
    description="Evaluates the assets' automation conditions: a new or corrected upstream partition refreshes "
    "the probability, feature and backtest partitions that read it.",
)
