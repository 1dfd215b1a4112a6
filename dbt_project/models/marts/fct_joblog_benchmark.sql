{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month', var('joblog_restate_months')) }}",
        tags=['monthly'],
    )
}}

{#-
    The Jobloggen benchmark per municipality and month (docs/domain.md §4, issue 7): jobparate
    kontanthjælp recipients (population) by smiley, shares, persons red three months running,
    and the rank on the share red (1 = most red) among municipalities with a population of at
    least var joblog_min_population (default 40); smaller municipalities are shown with
    is_ranked = false and no rank. National rows: municipality_code = var
    national_municipality_code (0), area_name 'Hele landet', never ranked. Rebuilds the same
    months as int_joblog_person_months (var joblog_restate_months before the window).
-#}
with

person_months as (

    select * from {{ ref('int_joblog_person_months') }}
    where {{ month_window('month', var('joblog_restate_months')) }}

),

municipalities as (

    select * from {{ ref('dim_municipality') }}

),

by_municipality as (

    select
        month,
        municipality_code,
        count(*) as population,
        count(*) filter (where smiley = 'green') as green,
        count(*) filter (where smiley = 'light_green') as light_green,
        count(*) filter (where smiley = 'red') as red,
        count(*) filter (where is_red_3_months) as red_3_months,
        sum(applications) as applications,

    from person_months
    group by month, municipality_code

),

national as (

    select
        month,
        {{ var('national_municipality_code') }} as municipality_code,
        sum(population) as population,
        sum(green) as green,
        sum(light_green) as light_green,
        sum(red) as red,
        sum(red_3_months) as red_3_months,
        sum(applications) as applications,

    from by_municipality
    group by month

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

ranked as (

    select
        *,
        red / population as share_red,
        case
            when is_ranked
                then rank() over (partition by month, is_ranked order by red / population desc)
        end as rank_share_red,
        count(*) filter (where is_ranked) over (partition by month) as ranked_municipalities,

    from shares

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

    from ranked

)

select * from final
