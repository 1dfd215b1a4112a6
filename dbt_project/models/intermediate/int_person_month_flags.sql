{#-
    One row per person × month × municipality with the flags the share measures count
    (docs/domain.md §3, issue 6). A flag is true when at least one day of the month qualifies.
    Age 16-66 (vars min_age/max_age) at the time, except the refugee population (goal 6 and
    follow-up b: vars refugee_min_age-max_age, residence permit from var refugee_permit_from).
    A person who moves in the month appears under both municipalities.

    Only the months of the run's window (month_window): its one reader, fct_kpi_measures,
    builds those months, and the filter must sit here, below the group by. Filtering the
    view's output instead left DuckDB aggregating every month of history (month 24 after 23
    national months: 31.5 M segments grouped, 4 GB spilled, 28 s; docs/benchmarks.md).
-#}
with

segment_days as (

    select * from {{ ref('int_segment_month_days') }}
    where {{ month_window('report_month') }}

),

catalogue as (

    select * from {{ ref('benefit_catalogue') }}

),

classified as (

    select
        segment_days.*,
        coalesce(catalogue.is_benefit, false) as is_benefit,
        coalesce(
            segment_days.offer_type in ({{ sql_list(var('company_directed_offers')) }}), false
        ) as is_company_directed_offer,
        segment_days.benefit_code in ({{ sql_list(var('unemployed_benefit_codes')) }})
            as is_unemployed_benefit,
        coalesce(
            segment_days.refugee_status is not null
            and segment_days.age between {{ var('refugee_min_age') }} and {{ var('max_age') }}
            and segment_days.residence_permit_date >= date '{{ var("refugee_permit_from") }}',
            false
        ) as is_refugee_target_segment,
        segment_days.benefit_code = 'KONT' and segment_days.visitation = 'aktivitetsparat'
            as is_cash_activity_ready_segment,

    from segment_days
    left join catalogue on segment_days.benefit_code = catalogue.benefit_code

),

final as (

    select
        report_month as month,
        municipality_code,
        person_id,
        any_value(sex) as sex,
        coalesce(max(origin) filter (where origin <> 'unknown'), 'unknown') as origin,
        bool_or(is_working_age) as is_working_age,
        bool_or(is_benefit) as has_benefit_day,
        -- goal 4: unemployed (var unemployed_benefit_codes) in any offer / in a
        -- company-directed one
        bool_or(is_working_age and is_unemployed_benefit and offer_type is not null)
            as is_unemployed_in_offer,
        bool_or(is_working_age and is_unemployed_benefit and is_company_directed_offer)
            as is_unemployed_in_company_offer,
        -- goal 5: sygedagpenge, partly back at work
        bool_or(is_working_age and benefit_code = 'SDP') as is_sickness_benefit,
        bool_or(is_working_age and benefit_code = 'SDP' and is_partially_recovered)
            as is_sickness_partially_recovered,
        -- goal 6 and follow-up b: refugees and family-reunified
        bool_or(is_refugee_target_segment) as is_refugee_target,
        bool_or(benefit_code = 'BESK' or ordinary_hours > 0) as has_unsupported_employment,
        -- goal 8 and follow-up f: aktivitetsparate kontanthjælp recipients
        bool_or(is_working_age and is_cash_activity_ready_segment) as is_cash_activity_ready,
        bool_or(is_working_age and is_cash_activity_ready_segment and ordinary_hours > 0)
            as is_cash_activity_ready_with_hours,
        coalesce(
            sum(conversations) filter (where is_working_age and is_cash_activity_ready_segment), 0
        ) as conversations_cash_activity_ready,
        -- goal 10: ressourceforløb
        bool_or(is_working_age and benefit_code = 'RES') as is_resource_programme,
        bool_or(is_working_age and benefit_code = 'RES' and is_company_directed_offer)
            as is_resource_programme_company_offer,
        -- follow-up e: aktivitetsparate (KONT, UDD, INT)
        bool_or(is_working_age and visitation = 'aktivitetsparat') as is_activity_ready,
        bool_or(is_working_age and visitation = 'aktivitetsparat' and is_company_directed_offer)
            as is_activity_ready_company_offer,

    from classified
    group by report_month, municipality_code, person_id

)

select * from final
