{#-
    The goals and follow-up measures of the employment plan (seed named by var `goals_seed`,
    default `goals_2019`). Targets are data: a new plan is a new seed with the same columns,
    selected with the var; no SQL changes.
-#}
with

goals as (

    select * from {{ ref(var('goals_seed')) }}

),

final as (

    select
        cast(goal_id as varchar) as goal_id,
        cast(kind as varchar) as goal_kind,
        cast(measure as varchar) as measure,
        cast(target_type as varchar) as target_type,
        cast(baseline_period as varchar) as baseline_period,
        cast(target_period as varchar) as target_period,
        cast(target_value as double) as target_value,
        cast(approx_target_ftp as double) as approx_target_ftp,
        cast(reported_status_value as double) as reported_status_value,
        cast(reported_status_period as varchar) as reported_status_period,
        cast(qualitative_reason as varchar) as qualitative_reason,
        cast(title_da as varchar) as title_da,

    from goals

)

select * from final
