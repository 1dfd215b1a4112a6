{#-
    The catalogue of measures computed in fct_kpi_measures (seed `kpi_measures`): whether a
    measure is a level (a count or full-time persons) or a share (numerator / denominator),
    which direction is better (used for ranks and goal status), and which goal uses it.
-#}
with

measures as (

    select * from {{ ref('kpi_measures') }}

),

final as (

    select
        cast(measure as varchar) as measure,
        cast(kind as varchar) as kind,
        cast(unit as varchar) as unit,
        cast(higher_is_better as boolean) as higher_is_better,
        cast(goal_id as varchar) as goal_id,
        cast(description as varchar) as description,

    from measures

)

select * from final
