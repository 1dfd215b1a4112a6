{#-
    The partition window [start_month, end_month) that Dagster passes as vars.
    Half-open on purpose: BETWEEN would also touch the next month.
    `months_before` widens the window backwards, for models that must also recompute earlier
    months (e.g. Jobloggen, where a later registration can move an application's month).
-#}
{% macro window_start(months_before=0) -%}
    {%- if months_before | int == 0 -%}
        date '{{ var("start_month") }}'
    {%- else -%}
        cast(date '{{ var("start_month") }}' - interval {{ months_before | int }} month as date)
    {%- endif -%}
{%- endmacro %}

{% macro window_end() -%}
    date '{{ var("end_month") }}'
{%- endmacro %}

{% macro month_window(column, months_before=0) -%}
    {{ column }} >= {{ window_start(months_before) }} and {{ column }} < {{ window_end() }}
{%- endmacro %}

{#- Pre-hook of incremental monthly models: drop the window's months before appending them. -#}
{% macro delete_month_window(column='month', months_before=0) -%}
    {% if is_incremental() %}
        delete from {{ this }} where {{ month_window(column, months_before) }}
    {% endif %}
{%- endmacro %}
