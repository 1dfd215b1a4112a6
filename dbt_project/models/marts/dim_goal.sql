{#-
    The goals and follow-up measures of every employment plan in force (source
    raw.plan_goals: the BI team's plan files, validated by lmkpi.employment_plan). Targets are
    data: a new year's plan is a new file; no SQL changes.
-#}
with

goals as (

    select * from {{ source('raw', 'plan_goals') }}

),

final as (

    select
        cast(plan_year as integer) as plan_year,
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
