{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month', var('joblog_restate_months')) }}",
        tags=['monthly'],
    )
}}

{#-
    The Jobloggen benchmark per municipality and month (docs/domain.md §4): jobparate
    kontanthjælp recipients (population) by smiley, shares, persons red three months running,
    and the rank on the share red (1 = most red) among municipalities with a population of at
    least var joblog_min_population (default 40); smaller municipalities are shown with
    is_ranked = false and no rank. National rows: municipality_code = var
    national_municipality_code (0), area_name 'Hele landet', never ranked.

    The best source per area (var benchmark_source: auto | person | external) [ours]: a
    municipality with person-level data is counted from it (source `person`, the counting rule
    of int_joblog_person_months); the others come from Jobindsats' smiley table, latest
    vintage (source `jobindsats`, with the table and the vintage). `person` uses the extracts
    only, `external` Jobindsats only. The country is Jobindsats' own row when a municipality
    came from Jobindsats, else the sum of the municipalities. A municipality counted from its
    own data carries Jobindsats' row for it too (external_population, external_red,
    external_share_red): the reconciliation. Rebuilds the same months as
    int_joblog_person_months (var joblog_restate_months before the window).
-#}
with

person_months as (

    select * from {{ ref('int_joblog_person_months') }}
    where {{ month_window('month', var('joblog_restate_months')) }}

),

municipalities as (

    select * from {{ ref('dim_municipality') }}

),

smiley_table as (

    select * from {{ ref('stg_external__observations') }}
    where
        table_kind = 'joblog'
        and is_latest_vintage
        and period_type = 'month'
        and {{ month_window('period_start', var('joblog_restate_months')) }}

),

external as (

    select
        period_start as month,
        coalesce(municipality_code, {{ var('national_municipality_code') }}) as municipality_code,
        area_type = 'country' as is_national,
        max(value) filter (where measure = 'population') as population,
        max(value) filter (where measure = 'green') as green,
        max(value) filter (where measure = 'light_green') as light_green,
        max(value) filter (where measure = 'red') as red,
        max(value) filter (where measure = 'red_3_months') as red_3_months,
        cast(null as bigint) as applications,
        any_value(table_id) as source_table,
        any_value(retrieved_on) as retrieved_on,

    from smiley_table
    where area_type in ('municipality', 'country')
    group by period_start, municipality_code, area_type

),

own_municipality as (

    select
        month,
        municipality_code,
        count(*) as population,
        count(*) filter (where smiley = 'green') as green,
        count(*) filter (where smiley = 'light_green') as light_green,
        count(*) filter (where smiley = 'red') as red,
        count(*) filter (where is_red_3_months) as red_3_months,
        sum(applications) as applications,
        'person' as source,
        cast(null as varchar) as source_table,
        cast(null as date) as retrieved_on,

    from person_months
    group by month, municipality_code

),

by_municipality as (

    {%- set mode = var('benchmark_source') %}
    {%- if mode not in ['auto', 'person', 'external'] %}
        {{ exceptions.raise_compiler_error("var benchmark_source must be auto, person or external, got " ~ mode) }}
    {%- endif %}
    {% if mode != 'external' %}
        select * from own_municipality
    {% endif %}
    {% if mode == 'auto' %}
        union all
    {% endif %}
    {% if mode != 'person' %}
        select
            month,
            municipality_code,
            population,
            green,
            light_green,
            red,
            red_3_months,
            applications,
            'jobindsats' as source,
            source_table,
            retrieved_on,
        from external
        where
            not is_national
            {% if mode == 'auto' %}
                and not exists (
                    select 1 as found from own_municipality
                    where
                        own_municipality.month = external.month
                        and own_municipality.municipality_code = external.municipality_code
                )
            {% endif %}
    {% endif %}

),

national_sum as (

    select
        month,
        {{ var('national_municipality_code') }} as municipality_code,
        sum(population) as population,
        sum(green) as green,
        sum(light_green) as light_green,
        sum(red) as red,
        sum(red_3_months) as red_3_months,
        sum(applications) as applications,
        'person' as source,
        cast(null as varchar) as source_table,
        cast(null as date) as retrieved_on,

    from by_municipality
    group by month
    having bool_and(source = 'person')

),

national as (

    select * from national_sum
    union all
    select
        month,
        municipality_code,
        population,
        green,
        light_green,
        red,
        red_3_months,
        applications,
        'jobindsats' as source,
        source_table,
        retrieved_on,
    from external
    where
        is_national
        and month not in (select national_sum.month from national_sum)
    {% if var('benchmark_source') == 'person' %}and false{% endif %}

),

shares as (

    select
        by_municipality.*,
        municipalities.municipality_name as area_name,
        false as is_national,
        by_municipality.population >= {{ var('joblog_min_population') }} as is_ranked,
    from by_municipality
    left join municipalities on by_municipality.municipality_code = municipalities.municipality_code
    union all
    select
        national.*,
        'Hele landet' as area_name,
        true as is_national,
        false as is_ranked,
    from national

),

reconciled as (

    select
        shares.*,
        case when shares.source = 'person' then external.population end as external_population,
        case when shares.source = 'person' then external.red end as external_red,

    from shares
    left join external
        on
            shares.month = external.month
            and shares.municipality_code = external.municipality_code
            and shares.is_national = external.is_national

),

ranked as (

    select
        *,
        red / population as share_red,
        case
            when is_ranked
                then rank() over (partition by month, is_ranked order by red / population desc)
        end as rank_share_red,
        count(*) filter (where is_ranked) over (partition by month) as ranked_municipalities,

    from reconciled

),

final as (

    select
        cast(month as date) as month,
        cast(municipality_code as integer) as municipality_code,
        cast(area_name as varchar) as area_name,
        cast(is_national as boolean) as is_national,
        cast(population as bigint) as population,
        cast(green as bigint) as green,
        cast(light_green as bigint) as light_green,
        cast(red as bigint) as red,
        cast(green / population as double) as share_green,
        cast(light_green / population as double) as share_light_green,
        cast(share_red as double) as share_red,
        cast(red_3_months as bigint) as red_3_months,
        cast(red_3_months / population as double) as share_red_3_months,
        cast(applications as bigint) as applications,
        cast(is_ranked as boolean) as is_ranked,
        cast(rank_share_red as bigint) as rank_share_red,
        cast(ranked_municipalities as bigint) as ranked_municipalities,
        cast(source as varchar) as source,
        cast(source_table as varchar) as source_table,
        cast(retrieved_on as date) as retrieved_on,
        cast(external_population as bigint) as external_population,
        cast(external_red as bigint) as external_red,
        cast(external_red / nullif(external_population, 0) as double) as external_share_red,

    from ranked

)

select * from final
