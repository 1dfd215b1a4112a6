{#-
    Each segment clipped to its reporting month: the days it covers inside the month, and the
    person's age on the first of those days (docs/domain.md §1: age 16-66 at the time of the spell).
    A segment still running (no end date) runs to the end of the month.
-#}
with

segments as (

    select * from {{ ref('stg_ydelser__segments') }}

),

clipped as (

    select
        *,
        last_day(report_month) as month_end_date,
        day(last_day(report_month)) as days_in_month,
        greatest(segment_start_date, report_month) as days_from_date,
        least(coalesce(segment_end_date, last_day(report_month)), last_day(report_month))
            as days_to_date,

    from segments

),

with_days as (

    select
        *,
        greatest(date_diff('day', days_from_date, days_to_date) + 1, 0) as benefit_days,
        date_sub('year', birth_date, days_from_date) as age,

    from clipped

),

final as (

    select
        report_month,
        person_id,
        municipality_code,
        benefit_code,
        coalesce(visitation, 'none') as visitation,
        age,
        case
            when age between 16 and 29 then '16-29'
            when age between 30 and 49 then '30-49'
            when age between 50 and 66 then '50-66'
            else 'other'
        end as age_band,
        age between {{ var('min_age') }} and {{ var('max_age') }} as is_working_age,
        sex,
        coalesce(origin, 'unknown') as origin,
        segment_start_date,
        segment_end_date,
        days_from_date,
        days_to_date,
        benefit_days,
        days_in_month,
        extent,
        offer_type,
        offer_company_cvr,
        is_partially_recovered,
        refugee_status,
        residence_permit_date,
        ordinary_hours,
        conversations,

    from with_days
    where benefit_days > 0

)

select * from final
