{#-
  One dbt invocation builds the (city, climate day) partitions of one Dagster run, named by
  --vars '{"slices": [{"city": ..., "first": ..., "last": ...}, ...]}': per city, inclusive runs of
  consecutive days (a backfill batch is a range of days; a single partition is one slice of one day).
-#}

{% macro partition_filter(alias=none) -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    ({%- for s in var("slices") -%}
        {%- if not loop.first %} or {% endif -%}
        ({{ prefix }}city = '{{ s.city }}' and {{ prefix }}climate_date between cast('{{ s.first }}' as date) and cast('{{ s.last }}' as date))
    {%- endfor -%})
{%- endmacro %}


{#-
  Pre-hook of the partitioned models. delete+insert only replaces keys present in the new batch,
  so a partition that shrank (a delisted bracket, an empty day) would keep stale rows; emptying
  the slice first makes a rebuild a true replace, in the same transaction as the insert.
-#}
{% macro delete_partition_slice() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ partition_filter() }}
    {%- endif -%}
{%- endmacro %}


{#-
  Every data test here is the asset check of one partition, so it scans that slice rather than
  the whole history. dbt resolves a root-project macro of this name before its own (the
  documented way to template test filters with macros); a test's own `where` still applies.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ partition_filter() }}{% if where %} and ({{ where }}){% endif %}) dbt_subquery
    {%- endset -%}
    {%- do return(filtered) -%}
{%- endmacro %}


{#-
  PostgreSQL scans the whole table for each partition's delete and tests without an index on the
  slice; DuckDB's zone maps already prune row groups written in partition order.
-#}
{% macro partition_index() -%}
    {{ return([{'columns': ['city', 'climate_date']}] if target.type == 'postgres' else []) }}
{%- endmacro %}


{#-
  The config of every partitioned model: one (city, climate_date) slice per run, which the
  pre-hook empties and delete+insert refills. A new column is appended, so older partitions keep
  their rows (null there) until rebuilt.
-#}
{% macro partition_slice_config() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['city', 'climate_date', 'ticker', 'ts'],
        on_schema_change='append_new_columns',
        pre_hook=["{{ prefer_hash_joins() }}", "{{ delete_partition_slice() }}"],
        indexes=partition_index(),
    ) }}
{%- endmacro %}
