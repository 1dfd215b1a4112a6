{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month') }}",
        tags=['monthly'],
    )
}}

{#-
    Full-time persons (fuldtidspersoner), docs/domain.md §1: days on the status inside the month
    divided by the calendar days of the month, summed over persons. Every status code is kept
    (also non-benefits such as BESK), so the grain is complete; the benefit catalogue
    (dim_benefit) says which codes count in which measure.
-#}
with

segment_days as (

    select * from {{ ref('int_segment_month_days') }}
    where {{ month_window('report_month') }}

),

aggregated as (

    select
        report_month as month,
        municipality_code,
        benefit_code,
        visitation,
        age_band,
        sex,
        origin,
        sum(benefit_days / days_in_month) as full_time_persons,
        sum(
            benefit_days * case when benefit_code = 'FLEX' then 1.0 else extent end
            / days_in_month
        ) as full_time_persons_hours_weighted,
        count(distinct person_id) as persons,

    from segment_days
    group by all

),

final as (

    select
        cast(month as date) as month,
        cast(municipality_code as integer) as municipality_code,
        cast(benefit_code as varchar) as benefit_code,
        cast(visitation as varchar) as visitation,
        cast(age_band as varchar) as age_band,
        cast(sex as varchar) as sex,
        cast(origin as varchar) as origin,
        cast(full_time_persons as double) as full_time_persons,
        cast(full_time_persons_hours_weighted as double) as full_time_persons_hours_weighted,
        cast(persons as bigint) as persons,

    from aggregated

)

select * from final
