{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month', var('joblog_restate_months')) }}",
        tags=['monthly'],
    )
}}

{#-
    Jobloggen per person and month (docs/domain.md §4, issue 7). Population: persons aged 16-66 with
    KONT and visitation jobparat on at least one day of the month (from ydelser), in the
    municipality of their last such day. A municipality's month without any joblog
    registration is left out (no file delivered is not the same as nobody searching).

    Counting rule [official]: an application (person × soegning_id) counts once, in the
    month of its first `Søgt` registration; one never marked `Søgt` counts in the month of its
    first other status. The history of an application is read from the loaded months within
    var joblog_history_months before and after the window. A person in the population without
    counted applications has 0.

    Smiley: green when applications >= the threshold, light_green 1 .. below it, red 0. The
    threshold is var joblog_green_threshold (6) × availability when var
    joblog_prorate_threshold [ours]; availability = sum(days on jobparat KONT × omfang) / days
    in the month, at most 1 (a person in the population for part of the month, or at reduced
    extent, must register proportionally fewer applications). is_red_3_months: red in this
    and the two previous calendar months.

    Incremental: a later registration can move an application to another month (first
    `Søgt` after a first `Samtale`), so each run rebuilds var joblog_restate_months months
    before the window as well; the 3-month rule reads two more months. Person-level: never
    published.
-#}

{%- set restate = var('joblog_restate_months') | int -%}

with

jobparat_segments as (

    select * from {{ ref('int_segment_month_days') }}
    where
        {{ month_window('report_month', restate + 2) }}
        and benefit_code = 'KONT'
        and visitation = 'jobparat'
        and is_working_age

),

-- An application's registrations are taken to lie within var joblog_history_months of each
-- other: read that far back from the rebuilt months and that far past the window (a
-- backfill has its later months loaded already; reading all of them made the first window
-- of ten national years read 120 months and spill 3 GB). Read once per use, each with its
-- own month filter: materialized (DuckDB's choice for a CTE used twice) it cost twice the
-- time and spilled on a national window.
registrations as not materialized (

    select * from {{ ref('stg_joblog__registrations') }}
    where
        report_month >= {{ window_start(restate + 2 + var('joblog_history_months') | int) }}
        and report_month < {{ window_end(var('joblog_history_months') | int) }}

),

population as (

    select
        report_month as month,
        person_id,
        arg_max(municipality_code, days_to_date) as municipality_code,
        least(sum(benefit_days * extent) / any_value(days_in_month), 1.0) as availability,

    from jobparat_segments
    group by report_month, person_id

),

-- a municipality's month counts only when its joblog was delivered (has any registration)
delivered_months as (

    select distinct
        report_month as month,
        municipality_code,
    from registrations
    where {{ month_window('report_month', restate + 2) }}

),

-- every application with a registration in the rebuilt months, dated from all its
-- registrations in the history read (one pass, no join back)
application_dates as (

    select
        person_id,
        application_id,
        min(registered_date) filter (where application_status = 'Søgt') as first_applied_date,
        min(registered_date) as first_registered_date,

    from registrations
    group by person_id, application_id
    having bool_or({{ month_window('report_month', restate + 2) }})

),

applications_per_month as (

    select
        cast(date_trunc('month', coalesce(first_applied_date, first_registered_date)) as date)
            as month,
        person_id,
        count(*) as applications,

    from application_dates
    group by all

),

person_months as (

    select
        population.month,
        population.person_id,
        population.municipality_code,
        population.availability,
        coalesce(applications_per_month.applications, 0) as applications,
        {% if var('joblog_prorate_threshold') %}
            round({{ var('joblog_green_threshold') }} * population.availability, 6)
        {% else %}
        {{ var('joblog_green_threshold') }}
        {% endif %} as green_threshold,

    from population
    inner join delivered_months
        on
            population.month = delivered_months.month
            and population.municipality_code = delivered_months.municipality_code
    left join applications_per_month
        on
            population.month = applications_per_month.month
            and population.person_id = applications_per_month.person_id

),

smileys as (

    select
        *,
        case
            when applications = 0 then 'red'
            when applications >= green_threshold then 'green'
            else 'light_green'
        end as smiley,

    from person_months

),

three_months as (

    select
        *,
        count(*) filter (where smiley = 'red') over (
            partition by person_id
            order by month
            range between interval 2 month preceding and current row
        ) = 3 as is_red_3_months,

    from smileys

),

final as (

    select
        cast(month as date) as month,
        person_id,
        cast(municipality_code as integer) as municipality_code,
        cast(availability as double) as availability,
        cast(applications as bigint) as applications,
        cast(green_threshold as double) as green_threshold,
        cast(smiley as varchar) as smiley,
        cast(is_red_3_months as boolean) as is_red_3_months,

    from three_months
    where {{ month_window('month', restate) }}

)

select * from final
