{#-
    dbt applies a test's `where` config through this macro (dbt's own is overridden here).
    A test with `meta: {month_window: N}` checks only the rows of the run's month window,
    widened N months back (macro month_window): the window is read from raw.run_window at run
    time, which a `where:` string cannot do (dbt renders those at parse time, without macros).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get("where") -%}
    {%- set months_before = (config.get("meta") or {}).get("month_window") -%}
    {%- if months_before is not none -%}
        {%- set in_window = month_window("month", months_before) -%}
        {%- set where = in_window if not where else "(" ~ where ~ ") and " ~ in_window -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) as dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
