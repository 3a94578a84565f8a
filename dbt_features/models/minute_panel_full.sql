{{ partition_slice_config() }}

with panel as (

    select * from {{ ref('minute_panel') }}
    where {{ partition_filter() }}

),

hazard as (

    select city, climate_date, ticker, ts, p_wx, hazard_next_5m, hazard_next_60m, running_max_f
    from {{ source('pmf', 'hazard_pmf') }}
    where {{ partition_filter() }}

),

fused as (

    select city, climate_date, ticker, ts, p_mkt, p_fused, p_fused_norm
    from {{ source('pmf', 'fused_pmf') }}
    where {{ partition_filter() }}

),

settlement as (

    select city, climate_date, max_f, report_type
    from {{ source('weather', 'settlement') }}
    where {{ partition_filter() }}

)

select
    p.*,
    h.p_wx,
    h.hazard_next_5m,
    h.hazard_next_60m,
    h.running_max_f as pmf_running_max_f,
    f.p_mkt,
    f.p_fused,
    f.p_fused_norm,
    s.max_f as settled_max_f,
    s.report_type as settlement_report_type,
    -- lo_f / hi_f are the whole degrees that settle YES (strike_type already applied upstream).
    case
        when s.max_f is null then null
        when (p.lo_f is null or s.max_f >= p.lo_f) and (p.hi_f is null or s.max_f <= p.hi_f) then 1
        else 0
    end as settled_yes
from panel as p
left join hazard as h on h.city = p.city and h.climate_date = p.climate_date and h.ticker = p.ticker and h.ts = p.ts
left join fused as f on f.city = p.city and f.climate_date = p.climate_date and f.ticker = p.ticker and f.ts = p.ts
-- At most one settlement row per partition (its key is city, climate_date).
left join settlement as s on s.city = p.city and s.climate_date = p.climate_date
