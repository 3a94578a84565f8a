{#-
  Minutes from `start_ts` to `end_ts` as a double. Both are UTC timestamptz; epoch arithmetic is
  the same on DuckDB and PostgreSQL and, unlike dbt.datediff on PostgreSQL (which goes through
  ::date in the session time zone), never depends on the session's time zone.
-#}
{% macro minutes_between(start_ts, end_ts) -%}
    cast((extract(epoch from {{ end_ts }}) - extract(epoch from {{ start_ts }})) / 60.0 as double precision)
{%- endmacro %}


{#- Decimal dollars / counts to float64 for analytics (the order path never reads these panels). -#}
{% macro to_double(expr) -%}
    cast({{ expr }} as double precision)
{%- endmacro %}
