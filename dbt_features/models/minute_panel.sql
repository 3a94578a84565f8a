{{ partition_slice_config() }}

with markets as (

    select ticker, event_ticker, lo_f, hi_f, close_time
    from {{ source('kalshi', 'markets') }}
    where {{ partition_filter() }}

),

quotes as (

    select
        c.city,
        c.climate_date,
        c.ticker,
        m.event_ticker,
        c.ts,
        m.lo_f,
        m.hi_f,
        m.close_time,
        {{ to_double('c.yes_bid') }} as yes_bid,
        {{ to_double('c.yes_ask') }} as yes_ask,
        c.has_quote,
        {{ to_double('c.volume') }} as volume,
        {{ to_double('c.trade_price') }} as trade_price
    from {{ source('kalshi', 'candles_1m') }} as c
    inner join markets as m on m.ticker = c.ticker
    where {{ partition_filter('c') }}

),

known_at_ts as (

    -- A candle stamped ts is the bar [ts, ts + 1 min) and carries that bar's close, which is only
    -- known at ts + 1 min. The book known at ts is therefore the previous bar's close.
    select
        city,
        climate_date,
        ticker,
        event_ticker,
        ts,
        lo_f,
        hi_f,
        close_time,
        lag(yes_bid) over by_ticker as yes_bid,
        lag(yes_ask) over by_ticker as yes_ask,
        coalesce(lag(has_quote) over by_ticker, false) as has_quote,
        lag(volume) over by_ticker as volume,
        lag(trade_price) over by_ticker as trade_price
    from quotes
    window by_ticker as (partition by ticker order by ts)

),

priced as (

    select
        *,
        case when yes_bid is not null and yes_ask is not null then (yes_bid + yes_ask) / 2 end as mid,
        yes_ask - yes_bid as spread
    from known_at_ts

),

kinematics as (

    select
        *,
        lag(mid, 1) over by_ticker as mid_1m_ago,
        lag(ts, 1) over by_ticker as ts_1m_ago,
        lag(mid, 5) over by_ticker as mid_5m_ago,
        lag(ts, 5) over by_ticker as ts_5m_ago,
        lag(mid, 15) over by_ticker as mid_15m_ago,
        lag(ts, 15) over by_ticker as ts_15m_ago,
        -- The ladder runs from the open-below bracket (no lo_f) upwards.
        lag(mid) over ladder - mid as mid_below_delta,
        lead(mid) over ladder - mid as mid_above_delta
    from priced
    window
        by_ticker as (partition by ticker order by ts),
        ladder as (partition by event_ticker, ts order by lo_f nulls first, ticker)

),

observations as (

    select city, climate_date, ts as obs_ts, temp_f
    from {{ source('weather', 'station_obs') }}
    where {{ partition_filter() }} and station_ok and temp_f is not null

),

minutes as (

    select distinct city, climate_date, ts from quotes

),

-- A minute sees only observations stamped at or before it, so nothing can look ahead. The range
-- join is 1440 x 288 rows per partition (within its city and day): cheap on both adapters without
-- DuckDB's ASOF JOIN.
weather_so_far as (

    select m.city, m.climate_date, m.ts, max(o.obs_ts) as obs_ts, max(o.temp_f) as obs_running_max_f
    from minutes as m
    inner join observations as o
        on o.city = m.city and o.climate_date = m.climate_date and o.obs_ts <= m.ts
    group by m.city, m.climate_date, m.ts

),

weather_asof as (

    select w.city, w.climate_date, w.ts, w.obs_ts, o.temp_f as obs_temp_f, w.obs_running_max_f
    from weather_so_far as w
    inner join observations as o
        on o.city = w.city and o.climate_date = w.climate_date and o.obs_ts = w.obs_ts

)

select
    k.city,
    k.climate_date,
    k.ticker,
    k.event_ticker,
    k.ts,
    k.lo_f,
    k.hi_f,
    k.yes_bid,
    k.yes_ask,
    k.mid,
    k.spread,
    k.has_quote,
    k.volume,
    k.trade_price,
    -- lag() counts rows; the timestamp guard keeps these exact even if the grid ever had a gap.
    case when k.ts_1m_ago = {{ dbt.dateadd('minute', -1, 'k.ts') }} then k.mid - k.mid_1m_ago end as mid_chg_1m,
    case when k.ts_5m_ago = {{ dbt.dateadd('minute', -5, 'k.ts') }} then k.mid - k.mid_5m_ago end as mid_chg_5m,
    case when k.ts_15m_ago = {{ dbt.dateadd('minute', -15, 'k.ts') }} then k.mid - k.mid_15m_ago end as mid_chg_15m,
    k.mid_below_delta,
    k.mid_above_delta,
    w.obs_temp_f,
    {{ minutes_between('w.obs_ts', 'k.ts') }} as obs_age_min,
    w.obs_running_max_f,
    {{ minutes_between('k.ts', 'k.close_time') }} as minutes_to_close
from kinematics as k
left join weather_asof as w on w.city = k.city and w.climate_date = k.climate_date and w.ts = k.ts
