{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month') }}",
        tags=['monthly'],
    )
}}

{#-
    lmkpi's own full-time persons against Jobindsats' for the same municipality, month and
    benefit group (external null where Jobindsats has no figure): what every BI team is asked ("why does our number differ?"). Own = the
    person-level extracts, age 16-66 (var min_age / max_age), days in the month / days of the
    month; `total` = the groups of the national measure (is_public_benefit_national).
    External = the latest vintage, from the table named first in var
    reconciliation_source_tables (default ptva02, then the single-benefit tables).
    `exceeds_tolerance` when the relative difference is larger than var
    reconciliation_tolerance (default 0.02 = 2 %) [ours]. Jobindsats dates a benefit by the
    period it was lived in and counts residents; the extracts follow the case system, so small
    differences are expected. Only municipalities with person-level data have rows.
-#}
with

segment_days as (

    select * from {{ ref('int_segment_month_days') }}
    where {{ month_window('report_month') }} and is_working_age

),

benefits as (

    select * from {{ ref('dim_benefit') }}

),

external as (

    select * from {{ ref('fct_external_benefits') }}
    where is_latest_vintage and area_type = 'municipality' and {{ month_window('month') }}

),

own_groups as (

    select
        segment_days.report_month as month,
        segment_days.municipality_code,
        benefits.benefit_group,
        sum(segment_days.benefit_days / segment_days.days_in_month) as full_time_persons,
        bool_or(benefits.is_public_benefit_national) as in_total,

    from segment_days
    inner join benefits on segment_days.benefit_code = benefits.benefit_code
    -- the groups Jobindsats counts as offentligt forsørgede (the national measure)
    where benefits.is_public_benefit_national
    group by segment_days.report_month, segment_days.municipality_code, benefits.benefit_group

),

own as (

    select
        month,
        municipality_code,
        benefit_group,
        full_time_persons,
    from own_groups
    union all
    select
        month,
        municipality_code,
        'total' as benefit_group,
        sum(full_time_persons) as full_time_persons,
    from own_groups
    where in_total
    group by month, municipality_code

),

preferred as (

    select
        external.*,
        coalesce(
            list_position(
                [{{ sql_list(var('reconciliation_source_tables')) }}], external.source_table
            ),
            99
        ) as source_rank,

    from external

),

external_best as (

    select *
    from preferred
    where full_time_persons is not null
    qualify row_number() over (
        partition by month, municipality_code, benefit_group order by source_rank
    ) = 1

),

final as (

    select
        cast(own.month as date) as month,
        cast(own.municipality_code as integer) as municipality_code,
        cast(own.benefit_group as varchar) as benefit_group,
        cast(own.full_time_persons as double) as own_full_time_persons,
        cast(external_best.full_time_persons as double) as external_full_time_persons,
        cast(own.full_time_persons - external_best.full_time_persons as double) as difference,
        cast(
            (own.full_time_persons - external_best.full_time_persons)
            / nullif(external_best.full_time_persons, 0)
            as double
        ) as relative_difference,
        cast(
            abs(own.full_time_persons - external_best.full_time_persons)
            > {{ var('reconciliation_tolerance') }} * abs(external_best.full_time_persons)
            as boolean
        ) as exceeds_tolerance,
        cast(external_best.source_table as varchar) as source_table,
        cast(external_best.retrieved_on as date) as retrieved_on,

    from own
    left join external_best
        on
            own.month = external_best.month
            and own.municipality_code = external_best.municipality_code
            and own.benefit_group = external_best.benefit_group

)

select * from final
