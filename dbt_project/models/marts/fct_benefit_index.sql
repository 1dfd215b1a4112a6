{#-
    Full-time persons per benefit group per municipality and month, indexed to a base month
    (var index_base_month, default 2018-01-01 = 100, as in the plan's charts). Age 16-66;
    benefit groups of dim_benefit with is_benefit. National rows have municipality_code 0
    (var national_municipality_code). The index is null when the group had no full-time
    persons in the base month. Rebuilt in full each run (a restated base month changes every
    index) from the aggregate fct_full_time_persons.
-#}
with

full_time_persons as (

    select * from {{ ref('fct_full_time_persons') }}
    where age_band <> 'other'

),

benefits as (

    select * from {{ ref('dim_benefit') }}
    where is_benefit

),

by_municipality as (

    select
        full_time_persons.month,
        full_time_persons.municipality_code,
        benefits.benefit_group,
        benefits.benefit_group_da,
        sum(full_time_persons.full_time_persons) as full_time_persons,

    from full_time_persons
    inner join benefits on full_time_persons.benefit_code = benefits.benefit_code
    group by all

),

national as (

    select
        month,
        {{ var('national_municipality_code') }} as municipality_code,
        benefit_group,
        benefit_group_da,
        sum(full_time_persons) as full_time_persons,

    from by_municipality
    group by all

),

areas as (

    select * from by_municipality
    union all
    select * from national

),

base as (

    select
        municipality_code,
        benefit_group,
        full_time_persons as base_full_time_persons,
    from areas
    where month = date '{{ var("index_base_month") }}'

),

final as (

    select
        cast(areas.month as date) as month,
        cast(areas.municipality_code as integer) as municipality_code,
        cast(areas.benefit_group as varchar) as benefit_group,
        cast(areas.benefit_group_da as varchar) as benefit_group_da,
        cast(areas.full_time_persons as double) as full_time_persons,
        cast(date '{{ var("index_base_month") }}' as date) as base_month,
        cast(base.base_full_time_persons as double) as base_full_time_persons,
        cast(100 * areas.full_time_persons / nullif(base.base_full_time_persons, 0) as double)
            as index_value,

    from areas
    left join base
        on
            areas.municipality_code = base.municipality_code
            and areas.benefit_group = base.benefit_group

)

select * from final
