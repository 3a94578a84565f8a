{#- dbt_utils.unique_combination_of_columns without the package (no network at install time). -#}
{% test unique_combination(model, combination_of_columns) %}

select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
