{#-
    The plan's goals and follow-up measures per municipality × goal × month (issue 6), driven
    entirely by the plans in force (dim_goal, one per plan year): each goal names its
    `measure` (looked up in fct_kpi_measures), its `target_type`, periods and target. No goal
    is special-cased in SQL, so a new plan is a new plan file.

    Months: relative-change goals from the month after the baseline month to the target month;
    the others over their target period (`YYYY-MM/YYYY-MM`). Every municipality gets every
    month of the period; months without data have status `no_data`.

    target types and status [ours, see README]:
    - relative_change_max / _min: progress = value / baseline_value - 1 (baseline = the
      measure in the baseline month). In the target month: met / not_met (progress <= target
      for _max, >= for _min). Before it: on_track when progress is at least as good as the
      straight path from 0 to the target (target × months elapsed / months in total),
      else off_track.
    - monthly_average_min / _max: value = the month's share; progress = the average of the
      monthly shares of the period so far; projected_value = that sum plus the remaining
      months at the average of the last var goal_projection_recent_months months, divided by
      the months. In the last month of the period: met / not_met on the average; before it:
      on_track / off_track on the projection. baseline_value = the average over the seed's
      reported_status_period, from our data.
    - follow (follow-ups without a target): status no_target (no_data without a value).
    - qualitative: status qualitative, status_reason from the seed.
    Rebuilt in full each run: it reads only the monthly aggregates of fct_kpi_measures.
-#}
with

goals as (

    select * from {{ ref('dim_goal') }}

),

measures as (

    select * from {{ ref('fct_kpi_measures') }}

),

municipalities as (

    select * from {{ ref('dim_municipality') }}

),

months as (

    select * from {{ ref('dim_month') }}

),

goal_periods as (

    select
        *,
        {{ period_to_month('baseline_period') }} as baseline_month,
        case
            when target_period like '%/%'
                then {{ period_to_month("split_part(target_period, '/', 1)") }}
        end as period_start_month,
        {{ period_to_month("split_part(target_period, '/', -1)") }} as target_month,
        {{ period_to_month("split_part(reported_status_period, '/', 1)") }} as status_from_month,
        {{ period_to_month("split_part(reported_status_period, '/', -1)") }} as status_to_month,
        case
            when target_type like '%\_max' escape '\' then 'max'
            when target_type like '%\_min' escape '\' then 'min'
        end as direction,

    from goals

),

tracked_goals as (

    select
        *,
        coalesce(
            period_start_month,
            cast(baseline_month + interval 1 month as date),
            target_month
        ) as first_month,

    from goal_periods

),

grid as (

    select
        tracked_goals.*,
        municipalities.municipality_code,
        months.month,

    from tracked_goals
    cross join municipalities
    inner join months
        on months.month between tracked_goals.first_month and tracked_goals.target_month

),

baseline_levels as (

    select
        tracked_goals.plan_year,
        tracked_goals.goal_id,
        measures.municipality_code,
        measures.value as baseline_value,

    from tracked_goals
    inner join measures
        on
            tracked_goals.measure = measures.measure
            and tracked_goals.baseline_month = measures.month
    where tracked_goals.target_type like 'relative_change%'

),

baseline_averages as (

    select
        tracked_goals.plan_year,
        tracked_goals.goal_id,
        measures.municipality_code,
        avg(measures.value) as baseline_value,

    from tracked_goals
    inner join measures
        on
            tracked_goals.measure = measures.measure
            and measures.month
            between tracked_goals.status_from_month and tracked_goals.status_to_month
    where tracked_goals.target_type like 'monthly_average%'
    group by tracked_goals.plan_year, tracked_goals.goal_id, measures.municipality_code

),

with_values as (

    select
        grid.*,
        measures.numerator,
        measures.denominator,
        measures.value,
        coalesce(baseline_levels.baseline_value, baseline_averages.baseline_value)
            as baseline_value,

    from grid
    left join measures
        on
            grid.measure = measures.measure
            and grid.municipality_code = measures.municipality_code
            and grid.month = measures.month
    left join baseline_levels
        on
            grid.plan_year = baseline_levels.plan_year
            and grid.goal_id = baseline_levels.goal_id
            and grid.municipality_code = baseline_levels.municipality_code
    left join baseline_averages
        on
            grid.plan_year = baseline_averages.plan_year
            and grid.goal_id = baseline_averages.goal_id
            and grid.municipality_code = baseline_averages.municipality_code

),

running as (

    select
        *,
        count(value) over to_date as months_with_data,
        sum(value) over to_date as value_sum_to_date,
        avg(value) over (
            partition by plan_year, goal_id, municipality_code
            order by month
            rows between {{ var('goal_projection_recent_months') | int - 1 }} preceding
            and current row
        ) as recent_average,
        date_diff('month', month, target_month) as months_remaining,

    from with_values
    window to_date as (
        partition by plan_year, goal_id, municipality_code
        order by month
        rows between unbounded preceding and current row
    )

),

measured as (

    select
        *,
        case
            when target_type like 'relative_change%'
                then value / nullif(baseline_value, 0) - 1
            when target_type like 'monthly_average%'
                then value_sum_to_date / nullif(months_with_data, 0)
        end as progress,
        case
            when target_type like 'relative_change%'
                then
                    target_value
                    * date_diff('month', baseline_month, month)
                    / nullif(date_diff('month', baseline_month, target_month), 0)
        end as expected_progress,
        case
            when target_type like 'relative_change%' then baseline_value * (1 + target_value)
            when target_type like 'monthly_average%' then target_value
        end as target_level,
        case
            when target_type like 'monthly_average%'
                then
                    (value_sum_to_date + months_remaining * recent_average)
                    / nullif(months_with_data + months_remaining, 0)
        end as projected_value,

    from running

),

assessed as (

    select
        *,
        case
            when target_type = 'qualitative' then 'qualitative'
            when value is null then 'no_data'
            when target_type = 'follow' then 'no_target'
            when target_type like 'relative_change%' and coalesce(baseline_value, 0) = 0
                then 'no_data'
            when month = target_month
                then
                    case
                        when
                            {{ goal_reached('progress', 'target_value') }}
                            then 'met'
                        else 'not_met'
                    end
            when target_type like 'relative_change%'
                then case
                    when {{ goal_reached('progress', 'expected_progress') }} then 'on_track'
                    else 'off_track'
                end
            when target_type like 'monthly_average%'
                then case
                    when {{ goal_reached('projected_value', 'target_value') }} then 'on_track'
                    else 'off_track'
                end
        end as status,

    from measured

),

explained as (

    select
        *,
        case
            when status = 'qualitative' then qualitative_reason
            when
                status = 'no_data' and value is null
                then 'no value of the measure for this municipality and month'
            when
                status = 'no_data'
                then 'no baseline value (measure missing or 0 in the baseline month)'
            when status = 'no_target' then 'follow-up measure without a target'
            when target_type like 'relative_change%' and month = target_month
                then 'change since the baseline month compared with the target'
            when target_type like 'relative_change%'
                then 'change since the baseline month compared with the straight path to the target'
            when target_type like 'monthly_average%' and month = target_month
                then 'average of the monthly shares of the period compared with the target'
            when target_type like 'monthly_average%'
                then 'projected average of the period compared with the target'
        end as status_reason,

    from assessed

),

final as (

    select
        cast(plan_year as integer) as plan_year,
        cast(goal_id as varchar) as goal_id,
        cast(month as date) as month,
        cast(municipality_code as integer) as municipality_code,
        cast(goal_kind as varchar) as goal_kind,
        cast(measure as varchar) as measure,
        cast(target_type as varchar) as target_type,
        cast(value as double) as value,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator,
        cast(baseline_month as date) as baseline_month,
        cast(baseline_value as double) as baseline_value,
        cast(target_month as date) as target_month,
        cast(target_value as double) as target_value,
        cast(target_level as double) as target_level,
        cast(progress as double) as progress,
        cast(expected_progress as double) as expected_progress,
        cast(projected_value as double) as projected_value,
        cast(months_with_data as bigint) as months_with_data,
        cast(reported_status_value as double) as reported_status_value,
        cast(status as varchar) as status,
        cast(status_reason as varchar) as status_reason,

    from explained

)

select * from final
