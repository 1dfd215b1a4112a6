{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month') }}",
        tags=['monthly'],
    )
}}

{#-
    Persons on public benefits (offentlig forsørgelse) per municipality and month, age 16-66.
    docs/domain.md §1-2: the total is the sum over benefit groups with NO overlap removal
    [official]; the overlap-removed count of distinct persons is an extra, named as such.
    `plan` = the 12 groups of Beskæftigelsesplan 2019; `national` = the ministerial measure
    (adds efterløn). ADAG_SYG counts in neither (benefit catalogue seed).
-#}
with

segment_days as (

    select * from {{ ref('int_segment_month_days') }}
    where {{ month_window('report_month') }} and is_working_age

),

benefits as (

    select * from {{ ref('dim_benefit') }}

),

final as (

    select
        cast(segment_days.report_month as date) as month,
        cast(segment_days.municipality_code as integer) as municipality_code,
        cast(
            sum(segment_days.benefit_days / segment_days.days_in_month)
            filter (where benefits.is_public_benefit_plan)
            as double
        ) as full_time_persons_plan,
        cast(
            sum(segment_days.benefit_days / segment_days.days_in_month)
            filter (where benefits.is_public_benefit_national)
            as double
        ) as full_time_persons_national,
        cast(
            count(distinct segment_days.person_id) filter (where benefits.is_public_benefit_plan)
            as bigint
        ) as persons_plan_overlap_removed,

    from segment_days
    inner join benefits on segment_days.benefit_code = benefits.benefit_code
    group by all

)

select * from final
