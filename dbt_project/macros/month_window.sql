{#-
    The partition window [start_month, end_month) that Dagster passes as vars.
    Half-open on purpose: BETWEEN would also touch the next month.
-#}
{% macro month_window(column) -%}
    {{ column }} >= date '{{ var("start_month") }}' and {{ column }} < date '{{ var("end_month") }}'
{%- endmacro %}

{#- Pre-hook of incremental monthly models: drop the window's months before appending them. -#}
{% macro delete_month_window(column='month') -%}
    {% if is_incremental() %}
        delete from {{ this }} where {{ month_window(column) }}
    {% endif %}
{%- endmacro %}
