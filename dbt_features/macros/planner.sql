{#-
  Pre-hook: PostgreSQL plans these models right after the Python assets rewrote their inputs,
  before autovacuum has analyzed them. With no statistics it estimates one row per partition and
  picks nested loops that rescan whole subplans (minute_panel took 165 s instead of 0.1 s). Within
  the model's transaction, steer it to hash joins, which are right at partition size whatever the
  estimates; and skip JIT, which the penalised plan cost would trigger for ~0.7 s of compiling.
  DuckDB needs no hint.
-#}
{% macro prefer_hash_joins() -%}
    {{ return(adapter.dispatch('prefer_hash_joins', 'kalshi_wx_features')()) }}
{%- endmacro %}

{% macro default__prefer_hash_joins() -%}
{%- endmacro %}

{% macro postgres__prefer_hash_joins() -%}
    set local enable_nestloop = off;
    set local jit = off
{%- endmacro %}
