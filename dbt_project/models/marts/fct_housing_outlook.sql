{#-
    Temporary housing: the outlook per scenario, municipality and month, from the last loaded
    month forward (var housing_outlook_months, default 12). Scenarios come from the BI team's
    files (source raw.housing_scenarios, lmkpi.housing_scenarios); `baseline`, derived from
    the loaded history, is always there.

    Per month t (housed_0 = persons housed in the last loaded month):
      housed_t = max(housed_{t-1} + arrivals_t - outflow_count_t - outflow_rate_t x housed_{t-1}, 0)
      rooms_t  = rooms_0 + rooms opened - rooms closed in the scenario up to t
      capacity_t = rooms_t x persons_per_room (var housing_persons_per_room unless the scenario
      sets it); places_short_t = max(housed_t - capacity_t, 0); capacity runs out in the first
      month with housed_t > capacity_t.
    A month the scenario says nothing about (no arrivals entry, no outflow entry covering it)
    takes the baseline's value: arrivals = the average monthly inflow over the last
    var housing_baseline_months months (housed_t - housed_{t-1} + moved to permanent housing,
    at least 0) and outflow_rate = moved to permanent housing / persons housed the month
    before, over the same months. Room changes dated at or before the last loaded month are
    in the history already and are ignored.
-#}
with recursive

history as (

    select
        month,
        municipality_code,
        housed,
        rooms,
        moved_to_permanent
    from {{ ref('fct_housing_municipality') }}

),

assumptions as (

    select * from {{ source('raw', 'housing_scenarios') }}

),

latest as (

    select
        municipality_code,
        max(month) as last_month
    from history
    group by municipality_code

),

start as (

    select
        history.municipality_code,
        history.month,
        history.housed,
        history.rooms
    from history
    inner join latest
        on
            history.municipality_code = latest.municipality_code
            and history.month = latest.last_month

),

recent as (

    select
        history.municipality_code,
        history.month,
        history.housed,
        history.moved_to_permanent,
        lag(history.housed) over (
            partition by history.municipality_code order by history.month
        ) as housed_before,

    from history

),

baseline as (

    select
        recent.municipality_code,
        coalesce(
            sum(recent.moved_to_permanent) / nullif(sum(recent.housed_before), 0), 0
        ) as outflow_rate,
        greatest(
            coalesce(avg(recent.housed - recent.housed_before + recent.moved_to_permanent), 0),
            0
        ) as arrivals,
        count(*) as months_used,

    from recent
    inner join latest on recent.municipality_code = latest.municipality_code
    where
        recent.housed_before is not null
        and recent.month
        > latest.last_month - to_months({{ var('housing_baseline_months') | int }})
    group by recent.municipality_code

),

scenarios as (

    select distinct
        assumptions.scenario,
        assumptions.title,
        assumptions.municipality_code,
        assumptions.description
    from assumptions
    where assumptions.municipality_code in (select start.municipality_code from start)
    union all
    select
        'baseline' as scenario,
        'Basis' as title,
        municipality_code,
        'Som de seneste ' || months_used || ' måneder: '
        || replace(cast(round(arrivals, 1) as varchar), '.', ',')
        || ' tilflyttede og '
        || replace(cast(round(100 * outflow_rate, 1) as varchar), '.', ',')
        || ' pct. af beboerne til permanent bolig pr. måned' as description,
    from baseline

),

steps as (

    select range as step
    from range(1, {{ var('housing_outlook_months') | int }} + 1)

),

grid as (

    select
        scenarios.scenario,
        scenarios.title,
        scenarios.municipality_code,
        scenarios.description,
        steps.step,
        cast(start.month + to_months(steps.step) as date) as month,
        start.month as last_month,

    from scenarios
    cross join steps
    inner join start on scenarios.municipality_code = start.municipality_code

),

covering as (

    -- the scenario's arrivals and outflow entries that cover each month
    select
        grid.scenario,
        grid.municipality_code,
        grid.step,
        sum(a.value) filter (where a.kind = 'arrivals') as scenario_arrivals,
        count(a.kind) filter (where a.kind in ('outflow_rate', 'outflow_count'))
            as outflow_entries,
        coalesce(sum(a.value) filter (where a.kind = 'outflow_rate'), 0) as scenario_rate,
        coalesce(sum(a.value) filter (where a.kind = 'outflow_count'), 0) as outflow_count,

    from grid
    left join assumptions as a
        on
            grid.scenario = a.scenario
            and grid.municipality_code = a.municipality_code
            and a.kind in ('arrivals', 'outflow_rate', 'outflow_count')
            and (a.month_from is null or grid.month >= a.month_from)
            and (a.month_to is null or grid.month <= a.month_to)
    group by grid.scenario, grid.municipality_code, grid.step

),

room_changes as (

    -- rooms opened (+) and closed (-) after the last loaded month, up to each month
    select
        grid.scenario,
        grid.municipality_code,
        grid.step,
        coalesce(sum(a.value), 0) as rooms_change,

    from grid
    left join assumptions as a
        on
            grid.scenario = a.scenario
            and grid.municipality_code = a.municipality_code
            and a.kind = 'rooms'
            and grid.last_month < a.month_from
            and grid.month >= a.month_from
    group by grid.scenario, grid.municipality_code, grid.step

),

norms as (

    select
        scenario,
        municipality_code,
        max(value) as persons_per_room
    from assumptions
    where kind = 'persons_per_room'
    group by scenario, municipality_code

),

monthly as (

    select
        grid.*,
        coalesce(covering.scenario_arrivals, baseline.arrivals) as arrivals,
        covering.outflow_entries,
        covering.scenario_rate,
        covering.outflow_count,
        room_changes.rooms_change,
        coalesce(norms.persons_per_room, {{ var('housing_persons_per_room') }})
            as persons_per_room,
        baseline.outflow_rate as baseline_rate,

    from grid
    inner join covering
        on
            grid.scenario = covering.scenario
            and grid.municipality_code = covering.municipality_code
            and grid.step = covering.step
    inner join room_changes
        on
            grid.scenario = room_changes.scenario
            and grid.municipality_code = room_changes.municipality_code
            and grid.step = room_changes.step
    left join norms
        on grid.scenario = norms.scenario and grid.municipality_code = norms.municipality_code
    left join baseline on grid.municipality_code = baseline.municipality_code

),

rates as (

    select
        *,
        case when outflow_entries > 0 then scenario_rate else baseline_rate end as outflow_rate,

    from monthly

),

projected as (

    select
        start.municipality_code,
        scenarios.scenario,
        0 as step,
        cast(start.housed as double) as housed,
        cast(0 as double) as moved_to_permanent,

    from start
    inner join scenarios on start.municipality_code = scenarios.municipality_code

    union all

    select
        projected.municipality_code,
        projected.scenario,
        rates.step,
        greatest(
            projected.housed + rates.arrivals - rates.outflow_count
            - rates.outflow_rate * projected.housed,
            0
        ) as housed,
        least(
            rates.outflow_count + rates.outflow_rate * projected.housed,
            projected.housed + rates.arrivals
        ) as moved_to_permanent,

    from projected
    inner join rates
        on
            projected.municipality_code = rates.municipality_code
            and projected.scenario = rates.scenario
            and rates.step = projected.step + 1

),

assessed as (

    select
        rates.scenario,
        rates.title,
        rates.municipality_code,
        rates.month,
        rates.step,
        rates.description,
        rates.arrivals,
        rates.outflow_rate,
        rates.outflow_count,
        projected.moved_to_permanent,
        projected.housed,
        rates.persons_per_room,
        start.rooms + rates.rooms_change as rooms,
        (start.rooms + rates.rooms_change) * rates.persons_per_room as capacity,

    from rates
    inner join projected
        on
            rates.municipality_code = projected.municipality_code
            and rates.scenario = projected.scenario
            and rates.step = projected.step
    inner join start on rates.municipality_code = start.municipality_code

),

final as (

    select
        cast(scenario as varchar) as scenario,
        cast(title as varchar) as title,
        cast(municipality_code as integer) as municipality_code,
        cast(month as date) as month,
        cast(step as integer) as months_ahead,
        cast(description as varchar) as description,
        cast(arrivals as double) as arrivals,
        cast(outflow_rate as double) as outflow_rate,
        cast(outflow_count as double) as outflow_count,
        cast(moved_to_permanent as double) as moved_to_permanent,
        cast(housed as double) as housed,
        cast(rooms as double) as rooms,
        cast(persons_per_room as double) as persons_per_room,
        cast(capacity as double) as capacity,
        cast(housed / nullif(rooms, 0) as double) as occupancy,
        cast(greatest(housed - capacity, 0) as double) as places_short,
        cast(housed > capacity as boolean) as is_over_capacity,
        cast(
            min(case when housed > capacity then month end)
                over (partition by scenario, municipality_code)
            as date
        ) as capacity_runs_out_month,

    from assessed

)

select * from final
