{#- A list var as a SQL list of string literals: ['a', 'b'] -> 'a', 'b'. -#}
{% macro sql_list(values) -%}
    {%- for value in values -%}
        '{{ value }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- A 'YYYY-MM' period code as the first day of that month (null stays null). -#}
{% macro period_to_month(column) -%}
    cast(strptime(nullif(trim({{ column }}), '') || '-01', '%Y-%m-%d') as date)
{%- endmacro %}

{#-
    The raw table of a source, or a typed empty relation while the ingest has not created it
    yet (a source that has never been delivered, e.g. a municipality without temporary
    housing). `columns` maps column name -> DuckDB type and is the staging model's contract
    with the ingest.
-#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and load_relation(relation) is none -%}
        {{ log("source " ~ source_name ~ "." ~ table_name ~ " does not exist yet: " ~ this.identifier ~ " has no rows", info=True) }}
        select
        {%- for name, data_type in columns.items() %}
            cast(null as {{ data_type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where false
    {%- else -%}
        select
        {%- for name, data_type in columns.items() %}
            cast({{ name }} as {{ data_type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        from {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- Matching key of an address name: lower case, letters and digits only, single spaces. -#}
{% macro address_key(column) -%}
    trim(regexp_replace(regexp_replace(lower({{ column }}), '[^\p{L}\p{N}]+', ' ', 'g'), '\s+', ' ', 'g'))
{%- endmacro %}

{#-
    A goal's value compared with a limit in the goal's direction (column `direction`: 'max' for
    targets not to exceed, 'min' for targets to reach). Null when either side is null.
-#}
{% macro goal_reached(value, limit) -%}
    ((direction = 'max' and {{ value }} <= {{ limit }}) or (direction = 'min' and {{ value }} >= {{ limit }}))
{%- endmacro %}
