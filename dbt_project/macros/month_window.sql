{#-
    The window [start_month, end_month) of months an incremental model rebuilds.
    Half-open on purpose: BETWEEN would also touch the next month.

    The pipeline writes the window into the source raw.run_window before each dbt run
    (lmkpi.warehouse.raw.set_run_window), so the SQL reads it at run time. It is data rather
    than a dbt var because changing `--vars` makes dbt re-parse the whole project on every
    run (about 7 s), while a table leaves partial parsing valid. When the vars start_month and
    end_month are given (dbt unit tests, or `dbt build --vars ...` by hand), they win.

    `months_before` widens the window backwards, for models that must also recompute earlier
    months (e.g. Jobloggen, where a later registration can move an application's month).
-#}
{% macro window_start(months_before=0) -%}
    {%- set start = var("start_month", none) -%}
    {%- set start = ("date '" ~ start ~ "'") if start else "(select start_month from " ~ source("raw", "run_window") ~ ")" -%}
    {%- if months_before | int == 0 -%}
        {{ start }}
    {%- else -%}
        cast({{ start }} - interval {{ months_before | int }} month as date)
    {%- endif -%}
{%- endmacro %}

{% macro window_end(months_after=0) -%}
    {%- set end = var("end_month", none) -%}
    {%- set end = ("date '" ~ end ~ "'") if end else "(select end_month from " ~ source("raw", "run_window") ~ ")" -%}
    {%- if months_after | int == 0 -%}
        {{ end }}
    {%- else -%}
        cast({{ end }} + interval {{ months_after | int }} month as date)
    {%- endif -%}
{%- endmacro %}

{#- The first month of history (lmkpi.settings.HISTORY_START), as the pipeline wrote it. -#}
{% macro history_start() -%}
    (select history_start from {{ source("raw", "run_window") }})
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
